"""The graph part of the campaign page: the campaign's own fields, its activities (a summary with
links to each activity's page, generated from its kind's option schema: ``admin_activities``) and
its transitions. Editable while the campaign is editable (a draft, or a revision open) and the
user may edit; saving goes through ``campaigns.services.replace_definition`` (``CampaignAdmin``).
"""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from campaigns import definitions, lifecycle
from campaigns.activities import registry
from campaigns.models import Activity, Transition
from config.access import allowed
from config.errors import ValidationFailed


class CampaignForm(forms.ModelForm):
    """The campaign's own fields, checked by ``definitions.parse`` with the current graph: each
    error is shown beside the field its path starts with (``schedule``, ``variables[0].type``)."""

    TOP = ("name", "description", "schedule", "error_policy", "frequency_cap", "variables")

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


def can_edit(request, campaign) -> bool:
    """The user may change this campaign's definition now (lifecycle row ``edit``)."""
    if campaign is None:
        return allowed(request.user, "campaigns.add_campaign")
    return lifecycle.ACTIONS["edit"].applies(campaign) and allowed(
        request.user, "campaigns.change_campaign"
    )


class EditableOnlyInline:
    """Parts of a campaign: seen by whoever sees the campaign, changeable only while it is
    editable by this user (``can_edit``); no permissions of their own."""

    def has_view_permission(self, request, obj=None):
        return allowed(request.user, "campaigns.view_campaign")

    def has_add_permission(self, request, obj=None):
        return obj is not None and can_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is not None and can_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and can_edit(request, obj)


class ActivityInline(EditableOnlyInline, admin.TabularInline):
    """A summary row per activity; its options are edited on its own page."""

    model = Activity
    classes = ("collapse",)
    extra = 0
    fields = ("key", "label", "kind", "ports", "problems", "options_link")
    readonly_fields = fields
    verbose_name_plural = "activities (delete here; edit and add on each activity's page)"

    def has_add_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        from campaigns import admin_views

        self._errors = admin_views.errors_by_activity(obj) if obj else {}
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).non_polymorphic()

    @admin.display(description="kind")
    def kind(self, obj):
        try:
            return registry.get(obj.type).label or obj.type
        except KeyError:
            return f"unknown kind {obj.type!r}"

    @admin.display(description="ports")
    def ports(self, obj):
        try:
            kind = registry.get(obj.type)
        except KeyError:
            return "-"
        return ", ".join(kind.ports_for(kind.with_defaults(obj.options or {}))) or "none"

    @admin.display(description="validation")
    def problems(self, obj):
        errors = getattr(self, "_errors", {}).get(obj.key, [])
        if not errors:
            return "ok"
        items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        return format_html('<ul class="errorlist">{}</ul>', items)

    @admin.display(description="options")
    def options_link(self, obj):
        url = reverse("admin:campaigns_activity_change", args=[obj.pk])
        return format_html('<a href="{}">options…</a>', url)


class TransitionForm(forms.ModelForm):
    class Meta:
        model = Transition
        fields = ("source", "port", "target", "order")

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source is not None and data.get("port"):
            kind = registry.get(source.type)
            ports = kind.ports_for(kind.with_defaults(source.options or {}))
            if data["port"] not in ports:
                self.add_error("port", f"{source.type} has no port {data['port']!r}: {ports}")
        return data


class TransitionInline(EditableOnlyInline, admin.TabularInline):
    model = Transition
    classes = ("collapse",)
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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Activities are added from the campaign page's menu, not from a transition's select."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        for flag in (
            "can_add_related",
            "can_change_related",
            "can_delete_related",
            "can_view_related",
        ):
            if hasattr(widget, flag):
                setattr(widget, flag, False)
        return field


def _order(form):
    return (form.cleaned_data or {}).get("order") or 0


def document_from(campaign, form, formsets) -> dict:
    """The definition the campaign page describes: its fields, its activities but the deleted
    ones, and the transitions of the transition formset."""
    document = definitions.export(campaign)
    document.update({k: form.cleaned_data[k] for k in CampaignForm.TOP if k in form.cleaned_data})
    removed, transitions = set(), None
    for formset in formsets:
        if formset.model is Activity:
            removed = {f.instance.key for f in formset.deleted_forms}
        elif formset.model is Transition:
            transitions = [
                {"from": f.cleaned_data["source"].key, "port": f.cleaned_data["port"],
                 "to": f.cleaned_data["target"].key}
                for f in sorted(formset.forms, key=_order)
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
                and f.cleaned_data.get("source") and f.cleaned_data.get("target")
            ]  # fmt: skip
    if transitions is not None:
        document["transitions"] = transitions
    document["activities"] = [a for a in document["activities"] if a["id"] not in removed]
    document["transitions"] = [
        t for t in document["transitions"] if not removed & {t["from"], t["to"]}
    ]
    return document
