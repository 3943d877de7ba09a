"""The graph editing part of the campaign page: activities and transitions as inlines, editable
only while the campaign is a draft (a published campaign runs immutable versions).

- ``ActivityInline``: the kind is chosen from the activity registry; ``options`` is a JSON object
  checked by the kind (unknown options, wrong JSON types) beside the field; the kind's help text
  and ports, and the validation errors concerning the activity, are shown beside it. Saving keeps
  the kind's polymorphic proxy class (``campaigns.models.PROXIES``).
- ``TransitionInline``: source and target among the campaign's activities; the port must be one of
  the source kind's ports.
"""

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html, format_html_join

from campaigns import admin_views
from campaigns.activities import registry
from campaigns.models import PROXIES, Activity, CampaignStatus, Transition


def draft(obj):
    return obj is None or obj.status == CampaignStatus.DRAFT


class ActivityForm(forms.ModelForm):
    type = forms.ChoiceField()
    options = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50, "class": "vLargeTextField"}),
        help_text="The kind's options as a JSON object; left-out options take their defaults.",
    )

    class Meta:
        model = Activity
        fields = ("key", "type", "label", "options", "order")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(k.type, k.label or k.type) for k in registry.all()]

    def clean(self):
        data = super().clean()
        options = data.get("options")
        if options is None:
            options = data["options"] = {}
        if not isinstance(options, dict):
            self.add_error("options", "must be a JSON object")
        elif data.get("type"):
            errors = registry.get(data["type"]).type_errors(options, "options")
            for error in errors:
                self.add_error("options", f"{error['path']}: {error['message']}")
        return data

    def save(self, commit=True):
        proxy = PROXIES.get(self.instance.type, Activity)
        self.instance.polymorphic_ctype = ContentType.objects.get_for_model(
            proxy, for_concrete_model=False
        )
        return super().save(commit)


class DraftOnlyInline:
    """Inlines editable only while the campaign is a draft (a published one is a version)."""

    def has_add_permission(self, request, obj=None):
        return draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return draft(obj) and super().has_delete_permission(request, obj)


class ActivityInline(DraftOnlyInline, admin.TabularInline):
    model = Activity
    form = ActivityForm
    fields = ("key", "type", "label", "options", "order", "about", "problems")
    readonly_fields = ("about", "problems")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).non_polymorphic()

    def get_formset(self, request, obj=None, **kwargs):
        self._errors = admin_views.errors_by_activity(obj) if obj else {}
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="kind")
    def about(self, obj):
        try:
            kind = registry.get(obj.type)
        except KeyError:
            return "-"
        ports = ", ".join(kind.ports_for({"type": obj.type, **(obj.options or {})}))
        return format_html("{}<br><small>ports: {}</small>", kind.help_text, ports)

    @admin.display(description="validation")
    def problems(self, obj):
        errors = getattr(self, "_errors", {}).get(obj.key, [])
        if not errors:
            return "ok" if obj.pk else "-"
        items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        return format_html('<ul class="errorlist">{}</ul>', items)


class TransitionForm(forms.ModelForm):
    class Meta:
        model = Transition
        fields = ("source", "port", "target", "order")

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source is not None and data.get("port"):
            options = {"id": source.key, "type": source.type, **(source.options or {})}
            ports = registry.get(source.type).ports_for(options)
            if data["port"] not in ports:
                self.add_error("port", f"{source.type} has no port {data['port']!r}: {ports}")
        return data


class TransitionInline(DraftOnlyInline, admin.TabularInline):
    model = Transition
    form = TransitionForm
    fk_name = "campaign"
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        self._campaign = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("source", "target"):
            kwargs["queryset"] = Activity.objects.non_polymorphic().filter(
                campaign=getattr(self, "_campaign", None)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
