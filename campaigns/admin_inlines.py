"""The graph editing part of the campaign page: activities and transitions as inlines, editable
only while the campaign is a draft (a published campaign runs immutable versions).

- ``ActivityInline``: a django-polymorphic inline whose children are read from the activity
  registry: one per kind with a proxy model (``campaigns.models.PROXIES``), its help text and
  ports as the description and its defaults beside ``options``, plus a generic child choosing
  ``type`` among the other kinds. ``options`` is a JSON object checked by the kind (unknown
  options, wrong JSON types) beside the field; the validation errors concerning the activity are
  shown beside it.
- ``TransitionInline``: source and target among the campaign's activities; the port must be one of
  the source kind's ports.
"""

import json

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html, format_html_join
from polymorphic.admin import StackedPolymorphicInline

from campaigns import admin_views, definitions
from campaigns.activities import registry
from campaigns.models import PROXIES, Activity, CampaignStatus, Transition
from config.errors import ValidationFailed


class CampaignForm(forms.ModelForm):
    """The campaign's own fields, checked by ``definitions.parse`` with the current graph: each
    error is shown beside the field its path starts with (``schedule``, ``variables[0].type``)."""

    TOP = ("name", "description", "schedule", "error_policy", "variables")

    def clean(self):
        data = super().clean()
        given = {k: data[k] for k in self.TOP if k in data}
        if self.errors or not given:
            return data
        try:
            document = definitions.export(self.instance) if self.instance.pk else {}
        except KeyError as exc:  # a kind no longer registered
            self.add_error(None, f"unknown activity type {exc}: remove or retype that activity")
            return data
        document.update(given)
        document.setdefault("name", self.instance.name)
        try:
            definitions.parse(document)
        except ValidationFailed as exc:
            for error in exc.errors:
                field = error["path"].split(".")[0].split("[")[0]
                if field in self.fields and field in given:
                    self.add_error(field, f"{error['path']}: {error['message']}")
        return data


def draft(obj):
    return obj is None or obj.status == CampaignStatus.DRAFT


class ActivityForm(forms.ModelForm):
    """One activity of a kind fixed by its polymorphic child (``kind_type``); the generic child
    (kinds without a proxy model) chooses ``type``. ``options`` is checked by the kind."""

    kind_type = None
    options = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "class": "vLargeTextField"}),
    )

    class Meta:
        model = Activity
        fields = ("key", "label", "options", "order")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.kind_type:
            kind = registry.get(self.kind_type)
            defaults = json.dumps(kind.defaults, sort_keys=True)
            self.fields[
                "options"
            ].help_text = f"A JSON object; left-out options take their defaults: {defaults}"

    def _kind(self, data):
        return self.kind_type or data.get("type") or self.instance.type

    def clean(self):
        data = super().clean()
        options = data.get("options")
        if options is None:
            options = data["options"] = {}
        if not isinstance(options, dict):
            self.add_error("options", "must be a JSON object")
        elif self._kind(data):
            errors = registry.get(self._kind(data)).type_errors(options, "options")
            for error in errors:
                self.add_error("options", f"{error['path']}: {error['message']}")
        return data

    def save(self, commit=True):
        self.instance.type = self._kind(self.cleaned_data)
        proxy = PROXIES.get(self.instance.type, Activity)
        self.instance.polymorphic_ctype = ContentType.objects.get_for_model(
            proxy, for_concrete_model=False
        )
        return super().save(commit)


class GenericActivityForm(ActivityForm):
    """The kinds that have no proxy model of their own (plugins, newer kinds)."""

    type = forms.ChoiceField()

    class Meta(ActivityForm.Meta):
        fields = ("key", "type", "label", "options", "order")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [
            (k.type, k.label or k.type) for k in registry.all() if k.type not in PROXIES
        ]


class DraftOnlyInline:
    """Inlines editable only while the campaign is a draft (a published one is a version)."""

    def has_add_permission(self, request, obj=None):
        return draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return draft(obj) and super().has_delete_permission(request, obj)


class ActivityChild(StackedPolymorphicInline.Child):
    """One kind's form in the polymorphic activity inline: its help text as the description,
    the validation errors concerning the activity beside it."""

    readonly_fields = ("ports", "problems")

    def get_readonly_fields(self, request, obj=None):
        """Everything once the campaign is no longer a draft (polymorphic children render their
        own readonly fields, not the parent inline's permissions)."""
        if draft(obj):
            return self.readonly_fields
        return flatten_fieldsets(self.get_fieldsets(request, obj))

    @admin.display(description="ports")
    def ports(self, obj):
        """The output ports this activity's options give it (a test's depend on its conditions)."""
        if not obj.pk:
            return "-"
        try:
            kind = registry.get(obj.type)
        except KeyError:
            return f"unknown kind {obj.type!r}"
        return ", ".join(kind.ports_for({"id": obj.key, "type": obj.type, **obj.options})) or "none"

    @admin.display(description="validation")
    def problems(self, obj):
        errors = getattr(self.parent_inline, "_errors", {}).get(obj.key, [])
        if not errors:
            return "ok" if obj.pk else "-"
        items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        return format_html('<ul class="errorlist">{}</ul>', items)


def _child(kind, model):
    fields = ("key", "label", "options", "order", "ports", "problems")
    description = kind.help_text
    form = type(f"{model.__name__}Form", (ActivityForm,), {"kind_type": kind.type})
    return type(
        f"{model.__name__}Inline",
        (ActivityChild,),
        {
            "model": model,
            "form": form,
            "fieldsets": (
                (kind.label or kind.type, {"fields": fields, "description": description}),
            ),
        },
    )


class GenericActivityChild(ActivityChild):
    model = Activity
    form = GenericActivityForm
    fields = ("key", "type", "label", "options", "order", "ports", "problems")


class ActivityInline(DraftOnlyInline, StackedPolymorphicInline):
    """The activities, polymorphic: one child per kind that has a proxy model (read from the
    registry), and a generic child choosing among the others."""

    model = Activity
    verbose_name_plural = "activities"

    def get_child_inlines(self):
        kinds = [k for k in registry.all() if k.type in PROXIES]
        return [*(_child(k, PROXIES[k.type]) for k in kinds), GenericActivityChild]

    def get_formset(self, request, obj=None, **kwargs):
        self._errors = admin_views.errors_by_activity(obj) if obj else {}
        return super().get_formset(request, obj, **kwargs)


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
