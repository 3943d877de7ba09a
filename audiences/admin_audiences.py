"""The audience builder: the admin of saved audiences (design 5.3, 12).

The change form of a rule audience edits its rule in the rule builder (``audiences.widgets``):
fields picked from a tree that follows links, blocks for linked records, a live count and a
preview of the rows (``/api/audiences/count/`` and ``preview/``, session auth + CSRF), and the
JSON one click away. Saving validates the rule (errors listed with their path) and goes through
``audiences.services.audiences`` (cycles refused, audited). Snapshots are read-only here.
"""

import json

from django import forms
from django.contrib import admin

from audiences import rules
from audiences.models import AudienceKind, SavedAudience, Schema
from audiences.services import audiences as services
from audiences.widgets import RuleTextarea
from config.errors import Conflict, ValidationFailed
from config.forms import parse_json


def _schema_names() -> str:
    """``{schema id: name}`` for the builder, which follows the schema select (its values are ids)."""
    return json.dumps({str(pk): name for pk, name in Schema.objects.values_list("pk", "name")})


class SavedAudienceForm(forms.ModelForm):
    where = forms.CharField(
        label="Rule",
        widget=RuleTextarea(attrs={"rows": 14, "data-schema-input": "#id_schema"}),
        help_text=(
            "Which records belong to the audience: add conditions on their fields, on linked "
            "records (exists, counts and totals) or other saved audiences. The count updates as "
            "you edit; the JSON view shows the same rule as text (the rule language: "
            "docs/rules.md)."
        ),
    )

    class Meta:
        model = SavedAudience
        fields = ["name", "schema", "description", "where"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        initial = self.instance.where if self.instance.pk else {"and": []}
        self.initial["where"] = json.dumps(initial, indent=2)
        self.fields["where"].widget.attrs["data-schema-names"] = _schema_names()
        if self.instance.pk:
            self.fields["name"].disabled = True
            self.fields["schema"].disabled = True

    def clean_where(self):
        return parse_json(self.cleaned_data["where"])

    def clean(self):
        data = super().clean()
        schema, where = data.get("schema"), data.get("where")
        if schema is not None and where is not None:
            name = data.get("name") or self.instance.name
            errors = rules.check(schema=schema, where=where, audience=name)
            for error in errors:
                self.add_error("where", f"{error['path']}: {error['message']}")
        return data

    def _post_clean(self):  # the service writes the row (cycle checks, counts, audit)
        pass


@admin.register(SavedAudience)
class SavedAudienceAdmin(admin.ModelAdmin):
    form = SavedAudienceForm
    list_display = ["name", "schema", "kind", "count", "counted_at"]
    list_filter = ["kind", "schema"]
    search_fields = ["name", "description"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.kind == AudienceKind.SNAPSHOT:
            return False
        return super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is not None and obj.kind == AudienceKind.SNAPSHOT:
            return ["name", "schema", "kind", "description", "count", "counted_at"]
        return super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                saved = services.update_rule_audience(
                    audience=SavedAudience.objects.get(pk=obj.pk),
                    where=data["where"],
                    description=data.get("description", ""),
                    user=request.user,
                )
            else:
                saved = services.create_rule_audience(
                    name=data["name"],
                    schema=data["schema"],
                    where=data["where"],
                    description=data.get("description", ""),
                    user=request.user,
                )
        except (ValidationFailed, Conflict) as exc:
            self.message_user(request, str(exc.detail), level="error")
            return
        for field in ("pk", "name", "schema", "kind", "where", "count", "counted_at"):
            setattr(obj, field, getattr(saved, field))

    def log_addition(self, request, obj, message):
        return None  # the service writes the audit entry

    log_change = log_addition

    def delete_model(self, request, obj):
        services.delete_audience(audience=obj, user=request.user)

    def log_deletion(self, request, obj, object_repr):
        return None
