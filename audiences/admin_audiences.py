"""The audience builder: the admin of saved audiences (design 5.3).

The change form of a rule audience is a JSON editor for its rule, with:
- a picker listing, for the chosen schema, its attributes, the paths reached through many-to-one
  links (``store.city``, two levels deep) and its one-to-many links (for ``exists``/``aggregate``);
  clicking an entry inserts it at the cursor;
- Calculate, Preview and SQL buttons that POST the rule to ``/api/audiences/count/`` and
  ``/api/audiences/preview/`` (session auth + CSRF) and show the answer in the page: the count with
  its elapsed time, the first rows, the generated SQL and its parameters, or the errors at their
  JSON path.
Saving validates the rule (errors listed with their path) and goes through
``audiences.services.audiences`` (cycles refused, audited). Snapshots are read-only here.
"""

import json

from django import forms
from django.contrib import admin

from audiences import rules
from audiences.models import AudienceKind, SavedAudience, Schema
from audiences.services import audiences as services
from config.errors import Conflict, ValidationFailed
from config.forms import parse_json


def picker_entries(meta, schema_name, depth=2):
    """``[{"path", "type", "kind"}]`` for ``schema_name``: attributes, many-to-one paths (up to
    ``depth`` links) and one-to-many links."""
    entries = []

    def walk(name, prefix, level):
        info = meta.schemas[name]
        for attribute, kind in info["attrs"].items():
            entries.append({"path": prefix + attribute, "type": kind, "kind": "attribute"})
        if level < depth:
            for link, (to, _via) in info["links"].items():
                walk(to, f"{prefix}{link}.", level + 1)

    walk(schema_name, "", 0)
    for reverse, (child, _link) in meta.schemas[schema_name]["reverse"].items():
        entries.append({"path": reverse, "type": child, "kind": "reverse"})
    return entries


class RuleEditor(forms.Textarea):
    """The JSON textarea with the picker, buttons and answer areas (template below)."""

    template_name = "admin/audiences/rule_editor.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        meta = rules.metadata()
        schemas = {
            str(pk): name
            for pk, name in Schema.objects.values_list("pk", "name")
            if name in meta.schemas
        }
        context["builder"] = json.dumps(
            {
                "schemas": schemas,
                "fields": {name: picker_entries(meta, name) for name in schemas.values()},
            }
        )
        return context


class SavedAudienceForm(forms.ModelForm):
    where = forms.CharField(
        widget=RuleEditor(attrs={"rows": 14, "cols": 90, "spellcheck": "false"}),
        help_text='The rule (design 5.3), e.g. {"field": "country", "op": "eq", "value": "FR"}.',
    )

    class Meta:
        model = SavedAudience
        fields = ["name", "schema", "description", "where"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        initial = self.instance.where if self.instance.pk else {"and": []}
        self.initial["where"] = json.dumps(initial, indent=2)
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
