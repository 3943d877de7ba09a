"""Each activity's page in the admin: its options as a form generated from its kind's option
schema (``campaigns.admin_forms``), the kind's help and ports, and the validation errors that
concern it. Opened from the campaign page (its activity list, or the "add an activity" menu:
``add/?campaign=<id>&type=<kind>``); not listed on the index.

Saving and deleting go through ``services.save_activity`` / ``services.remove_activity``: the
whole definition is parsed as a ``PUT`` would, and only while the campaign is editable by this
user. Errors are shown beside the option they concern.
"""

import re
import threading

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from campaigns import definitions, services
from campaigns.activities import registry
from campaigns.admin_forms import initial_from, option_fields, options_from
from campaigns.admin_inlines import can_edit
from campaigns.models import Activity, Campaign
from config.errors import DomainError, ValidationFailed

_page = threading.local()  # the request of the page being drawn (previews need its user)
OPTION_PATH = re.compile(r"^activities\[\d+\]\.?(?P<rest>.*)$")


class ActivityForm(forms.ModelForm):
    """``key`` and ``label``, then one field per option of the kind (set by ``for_kind``)."""

    kind = None
    campaign = None

    class Meta:
        model = Activity
        fields = ("key", "label")
        help_texts = {
            "key": "The activity's id in the definition: lowercase letters, digits, underscores.",
            "label": "Free text shown on the graph.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.update(initial_from(self.kind, self.instance.options or {}))

    def activity(self) -> dict:
        data = self.cleaned_data
        return {
            "id": data.get("key"),
            "type": self.kind.type,
            "label": data.get("label") or "",
            "position": self.instance.position,
            **options_from(self.kind, data),
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        original = self.instance.key if self.instance.pk else None
        document = definitions.export(self.campaign)
        items = [a for a in document["activities"] if a["id"] != original]
        index = len(items)
        document["activities"] = [*items, self.activity()]
        try:
            definitions.parse(document)
        except ValidationFailed as exc:
            self._place(exc.errors, index)
        return data

    def _place(self, errors, index):
        for error in errors:
            match = OPTION_PATH.match(error["path"])
            if not error["path"].startswith(f"activities[{index}]") or match is None:
                continue
            rest = match.group("rest")
            name = rest.split(".")[0].split("[")[0]
            field = {"id": "key", "label": "label"}.get(name, f"option_{name}")
            self.add_error(field if field in self.fields else None, f"{rest}: {error['message']}")


def _kind_and_campaign(request, obj):
    if obj is not None:
        try:
            return registry.get(obj.type), obj.campaign
        except KeyError:
            raise Http404(
                f"unknown activity type {obj.type!r}: remove it on the campaign page"
            ) from None
    campaign = Campaign.objects.filter(pk=request.GET.get("campaign") or 0).first()
    try:
        kind = registry.get(request.GET.get("type", ""))
    except KeyError:
        kind = None
    if campaign is None or kind is None:
        raise Http404("Add an activity from its campaign's page.")
    return kind, campaign


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    readonly_fields = ("ports", "notes", "preview", "problems")

    def get_model_perms(self, request):
        return {}  # reached from the campaign page, not from the index

    def get_queryset(self, request):
        return super().get_queryset(request).non_polymorphic().select_related("campaign")

    def get_fields(self, request, obj=None):
        kind, campaign = _kind_and_campaign(request, obj)
        extra = ["preview"] if obj is not None and getattr(kind, "channel", "") else []
        return [
            "key",
            "label",
            *option_fields(kind, campaign),
            "ports",
            "notes",
            *extra,
            "problems",
        ]

    def _form_class(self, request, obj):
        kind, campaign = _kind_and_campaign(request, obj)
        fields = option_fields(kind, campaign)
        attrs = {"kind": kind, "campaign": campaign, **fields}
        return type(f"{kind.type.title()}Form", (ActivityForm,), attrs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = self._form_class(request, obj)
        kwargs["fields"] = list(form.base_fields)
        return super().get_form(request, obj, change=change, form=form, **kwargs)

    def has_change_permission(self, request, obj=None):
        return obj is None or can_edit(request, obj.campaign)

    def has_add_permission(self, request):
        campaign = Campaign.objects.filter(pk=request.GET.get("campaign") or 0).first()
        return campaign is None or can_edit(request, campaign)

    def has_delete_permission(self, request, obj=None):
        return obj is None or can_edit(request, obj.campaign)

    @admin.display(description="ports")
    def ports(self, obj):
        if not obj or not obj.pk:
            return "-"
        kind = registry.get(obj.type)
        return ", ".join(kind.ports_for(kind.with_defaults(obj.options or {}))) or "none"

    @admin.display(description="notes")
    def notes(self, obj):
        """What the kind says of its saved options (an SMS: its length and segments)."""
        if not obj or not obj.pk:
            return "-"
        kind = registry.get(obj.type)
        found = getattr(kind, "notes", lambda options: [])(kind.with_defaults(obj.options or {}))
        return "; ".join(found) or "-"

    @admin.display(description="preview")
    def preview(self, obj):
        """A channel activity rendered for a chosen record (``?preview=<key>``)."""
        from channels.admin import sample_list

        request = _page.request
        key = request.GET.get("preview", "").strip()
        form = format_html(
            '<input type="text" name="preview" value="{}" placeholder="record key" form="preview-form" '
            'size="14"> <button type="submit" class="button" form="preview-form">Preview</button>',
            key,
        )
        if not key:
            return form
        try:
            shown = services.preview(
                campaign=obj.campaign, user=request.user, activity=obj.key, record=key
            )
        except DomainError as exc:
            return format_html('{}<p class="errornote">{}</p>', form, exc)
        note = shown.get("segments")
        extra = format_html("<p>{} characters, {}, {} segment(s)</p>", note["characters"],
                            note["encoding"], note["segments"]) if note else ""  # fmt: skip
        return format_html("{}{}{}", form, sample_list([shown], request.user), extra)

    @admin.display(description="validation")
    def problems(self, obj):
        from campaigns import admin_views

        if not obj or not obj.pk:
            return "-"
        errors = admin_views.errors_by_activity(obj.campaign).get(obj.key, [])
        if not errors:
            return "ok"
        items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        return format_html('<ul class="errorlist">{}</ul>', items)

    def save_model(self, request, obj, form, change):
        original = Activity.objects.get(pk=obj.pk).key if change else None
        try:
            services.save_activity(
                campaign=form.campaign,
                user=request.user,
                activity=form.activity(),
                replaces=original,
            )
        except DomainError as exc:
            messages.error(request, f"Not saved: {exc}")
            return
        saved = form.campaign.activities.non_polymorphic().get(key=form.cleaned_data["key"])
        obj.pk, obj.id = saved.pk, saved.pk
        for note in getattr(form.kind, "notes", lambda options: [])(form.activity()):
            messages.info(request, f"{saved.key}: {note}")

    def save_related(self, request, form, formsets, change):
        return None

    def delete_model(self, request, obj):
        try:
            services.remove_activity(campaign=obj.campaign, user=request.user, key=obj.key)
        except DomainError as exc:
            messages.error(request, f"Not deleted: {exc}")

    def _back(self, obj):
        url = reverse("admin:campaigns_campaign_change", args=[obj.campaign_id])
        return HttpResponseRedirect(url)

    def response_add(self, request, obj, post_url_continue=None):
        return self._back(obj)

    def response_change(self, request, obj):
        return self._back(obj)

    def response_delete(self, request, obj_display, obj_id):
        campaign = request.POST.get("campaign") or request.GET.get("campaign")
        if campaign:
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign]))
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_changelist"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        _page.request = request
        obj = self.get_object(request, object_id) if object_id else None
        kind, campaign = _kind_and_campaign(request, obj)
        context = {
            "subtitle": f"{kind.label or kind.type} in {campaign}: {kind.help_text}",
            "show_save_and_add_another": False,
            "activity_campaign": campaign,
            **(extra_context or {}),
        }
        return super().changeform_view(request, object_id, form_url, context)

    def get_changeform_initial_data(self, request):
        kind, _campaign = _kind_and_campaign(request, None)
        return {"key": kind.type, **initial_from(kind, {})}

    def save_form(self, request, form, change):
        obj = form.save(commit=False)
        obj.type, obj.campaign = form.kind.type, form.campaign
        return obj
