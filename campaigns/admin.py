"""The campaign pages of the admin: the campaign list and page (graph, validation, activities,
transitions, lifecycle buttons). Thin: every change calls ``campaigns.services``, which enforce the
lifecycle table; a refusal becomes an error message on the page, never a 500.

- The buttons at the top are the actions ``campaigns.lifecycle.available`` gives for this
  campaign's state and this user (``<id>/lifecycle/<action>/``, POST); the same actions work on
  a selection in the list.
- The definition is editable while the campaign is a draft or has a revision open, by users with
  ``campaigns.change_campaign``; saving the page is ``services.replace_definition``.
Runs: ``admin_runs``; activities: ``admin_activities``; tasks: ``admin_tasks``.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.module_loading import import_string

from campaigns import (
    admin_canvas,
    admin_forecast,
    admin_versions,
    admin_views,
    lifecycle,
    services,
)
from campaigns.admin_activities import ActivityAdmin  # noqa: F401 - registers the activity pages
from campaigns.admin_files import CampaignFileAdmin  # noqa: F401 - registers campaign files
from campaigns.admin_inlines import (
    ActivityInline,
    CampaignForm,
    TransitionInline,
    can_edit,
    document_from,
)
from campaigns.admin_policies import ApprovalPolicyAdmin  # noqa: F401 - registers the policies
from campaigns.admin_runs import RunAdmin, duration  # noqa: F401 - registers the run pages
from campaigns.admin_tasks import HumanTaskAdmin  # noqa: F401 - registers the task admin
from campaigns.models import Campaign, Run
from campaigns.services import approvals
from config.errors import DomainError, ValidationFailed
from config.inputs import loads


def refusal_message(exc):
    """The text of a refused action: every error of a validation failure, its place in words
    (activities by their label or key: ``campaigns.words``)."""
    from campaigns import words

    if isinstance(exc, ValidationFailed):
        document = getattr(exc, "document", None)
        return "Invalid campaign: " + "; ".join(words.sentence(e, document) for e in exc.errors)
    return str(exc)


def _lifecycle_action(action):
    def run_on_selection(modeladmin, request, queryset):
        for campaign in queryset:
            modeladmin.perform(request, campaign, action.name)

    run_on_selection.__name__ = f"{action.name}_selected"
    return admin.action(description=f"{action.label} the selected campaigns")(run_on_selection)


CAMPAIGN_ACTIONS = [a for a in lifecycle.TABLE if a.subject == "campaign" and a.name != "edit"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "status",
        "frequency",
        "last_run_status",
        "activity_count",
        "updated_at",
    )
    list_filter = ("status",)
    search_fields = ("name", "description")
    form = CampaignForm
    inlines = (ActivityInline, TransitionInline)
    actions = [_lifecycle_action(a) for a in CAMPAIGN_ACTIONS if a.name != "trigger"]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    fields = (
        "name",
        "description",
        "status",
        "approval",
        "revision",
        "schedule",
        "error_policy",
        "frequency_cap",
        "variables",
        "launch_plan",
        "validation",
        "recent_runs",
        "versions",
        "add_activity",
        "activity_kinds",
    )
    computed = (
        "status",
        "approval",
        "revision",
        "versions",
        "launch_plan",
        "validation",
        "recent_runs",
        "add_activity",
        "activity_kinds",
    )

    def get_queryset(self, request):
        latest = Run.objects.filter(campaign=OuterRef("pk")).order_by("-created_at", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_activities=Count("activities", distinct=True),
                last_run=Subquery(latest.values("status")[:1]),
            )
        )

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return can_edit(request, obj)

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        return self.computed if can_edit(request, obj) else self.fields

    @admin.display(description="schedule", ordering="schedule__frequency")
    def frequency(self, obj):
        return (obj.schedule or {}).get("frequency", "-")

    @admin.display(description="last run", ordering="last_run")
    def last_run_status(self, obj):
        return obj.last_run or "-"

    @admin.display(description="activities", ordering="n_activities")
    def activity_count(self, obj):
        return obj.n_activities

    @admin.display(description="revision")
    def revision(self, obj):
        from campaigns.versions import latest_version

        version = latest_version(obj) if obj.pk else None
        if version is None:
            return "not published yet"
        if obj.revision_opened_at:
            return (
                f"revising version {version.number} (launches still use version {version.number})"
            )
        return f"version {version.number} is live; revise it to change it"

    @admin.display(description="approval")
    def approval(self, obj):
        return admin_versions.approval_box(obj) if obj.pk else "-"

    @admin.display(description="versions")
    def versions(self, obj):
        return admin_versions.versions_list(obj) if obj.pk else "-"

    @admin.display(description="launches")
    def launch_plan(self, obj):
        return admin_views.launch_plan(obj) if obj.pk else "-"

    @admin.display(description="validation")
    def validation(self, obj):
        if not obj.pk:
            return "-"
        grouped = admin_views.errors_by_activity(obj)
        if not grouped:
            return format_html('<span class="campaign-valid">{}</span>', "Valid.")
        rows = format_html_join(
            "",
            "<li><strong>{}</strong><ul>{}</ul></li>",
            (
                (key or "campaign", format_html_join("", "<li>{}</li>", ((m,) for m in msgs)))
                for key, msgs in grouped.items()
            ),
        )
        return format_html('<ul class="campaign-validation errorlist">{}</ul>', rows)

    @admin.display(description="add an activity")
    def add_activity(self, obj):
        return admin_views.add_activity_menu(obj) if obj.pk else "-"

    @admin.display(description="kinds")
    def activity_kinds(self, obj):
        return admin_views.kinds_reference()

    @admin.display(description="runs (latest 20)")
    def recent_runs(self, obj):
        runs = obj.runs.order_by("-created_at", "-id")[:20] if obj.pk else []
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">run {}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:campaigns_run_change", args=[run.pk]),
                    run.pk,
                    "test" if run.test else "live",
                    run.status,
                    run.started_at or "-",
                    duration(run.started_at, run.finished_at),
                )
                for run in runs
            ),
        )
        if not rows:
            return "No runs yet."
        return format_html(
            "<table><tr><th>run</th><th>mode</th><th>status</th><th>started</th>"
            "<th>duration</th></tr>{}</table>",
            rows,
        )

    def save_model(self, request, obj, form, change):
        """New campaigns are created by the service; changes are saved in ``save_related``."""
        if change:
            return
        document = {k: form.cleaned_data.get(k) for k in CampaignForm.TOP}
        created = services.create_from_definition(
            document={**document, "activities": [], "transitions": []}, user=request.user
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if not change:
            return
        note = form.instance.status_note
        try:
            saved = services.replace_definition(
                campaign=form.instance,
                document=document_from(form.instance, form, formsets),
                user=request.user,
            )
        except DomainError as exc:
            transaction.set_rollback(True)
            messages.error(request, f"{form.instance}: not saved: {refusal_message(exc)}")
            return
        if saved.status_note != note and saved.status_note.startswith("Approval voided"):
            messages.warning(request, f"{saved}: {saved.status_note}")

    def construct_change_message(self, request, form, formsets, add=False):
        """The admin's own log line: the campaign's fields only. The inlines are never saved as
        formsets (``save_related`` hands the whole definition to the service, which writes its
        own audit entry), so Django's default, which reads ``formset.new_objects``, cannot run."""
        return [{"added": {}}] if add else [{"changed": {"fields": form.changed_data}}]

    def get_urls(self):
        view = self.admin_site.admin_view(self.lifecycle_view)
        versions = self.admin_site.admin_view(self.versions_view)
        return [
            *admin_canvas.urls(self.admin_site),
            path("<int:pk>/lifecycle/<str:action>/", view, name="campaigns_campaign_lifecycle"),
            path("<int:pk>/versions/", versions, name="campaigns_campaign_versions"),
            *super().get_urls(),
        ]

    def versions_view(self, request, pk):
        return admin_versions.compare_view(self, request, pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        if campaign is not None and request.method == "GET":
            if admin_views.errors_by_activity(campaign):
                messages.warning(request, "This campaign has validation errors (see Validation).")
        buttons = []
        if campaign is not None:
            buttons = [
                (a.name, a.label, a.help, reverse("admin:campaigns_campaign_lifecycle",
                                                  args=[object_id, a.name]))
                for a in lifecycle.available(campaign, request.user)
                if a.name not in ("edit", "test_run")  # the canvas's Test run has the form
            ]  # fmt: skip
        context = {
            "lifecycle": buttons,
            "channel_activities": admin_views.channel_activities(campaign) if campaign else [],
            "canvas": admin_views.campaign_picture(campaign, request) if campaign else "",
            "staff_email": request.user.email,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def perform(self, request, campaign, name, **arguments):
        """Call the service of lifecycle action ``name`` (with ``arguments``); report the
        outcome as a message. Returns what the service returned, or None when it refused."""
        service = import_string(lifecycle.ACTIONS[name].service)
        warnings = (
            admin_forecast.publish_warnings(campaign, request.user) if name == "publish" else []
        )
        try:
            result = service(campaign=campaign, user=request.user, **arguments)
        except DomainError as exc:
            messages.error(request, f"{campaign}: {refusal_message(exc)}")
            return None
        admin_forecast.show(request, campaign, warnings)
        if isinstance(result, Run):
            url = reverse("admin:campaigns_run_change", args=[result.pk])
            mode = "test run" if result.test else "run"
            text = format_html(
                '{}: {} <a href="{}">{}</a> started.', campaign, mode, url, result.pk
            )
        elif isinstance(result, Campaign) and result.pk != campaign.pk:
            text = f"{campaign}: duplicated as {result}."
        elif name == "publish" and approvals.waiting(result).exists():
            text = f"{campaign}: sent for approval; now {result.status.replace('_', ' ')}."
        elif name == "send_proof":
            sent = ", ".join(f"{r['to']} ({r['status']})" for r in result.results)
            text = f"{campaign}: proof of {result.activity_key} for {result.record_key} sent to {sent}."
        else:
            label = lifecycle.ACTIONS[name].label.lower()
            text = f"{campaign}: {label} done; now {result.status.replace('_', ' ')}."
        messages.success(request, text)
        return result

    def lifecycle_view(self, request, pk, action):
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method != "POST" or action not in lifecycle.ACTIONS or action == "edit":
            return redirect("admin:campaigns_campaign_change", pk)
        arguments = {}
        if action in ("test_run", "trigger") and request.POST.get("variables", "").strip():
            try:
                arguments["variables"] = loads(request.POST["variables"], path="variables")
            except ValidationFailed as exc:
                problems = "; ".join(e["message"] for e in exc.errors)
                messages.error(request, f"{campaign}: variables are not JSON ({problems}).")
                return redirect("admin:campaigns_campaign_change", pk)
        if action == "send_proof":
            arguments = {
                "activity": request.POST.get("activity") or None,
                "record": request.POST.get("record", "").strip(),
                "to": [a.strip() for a in request.POST.get("to", "").split(",") if a.strip()],
            }
        result = self.perform(request, campaign, action, **arguments)
        if isinstance(result, Campaign) and result.pk != campaign.pk:
            return redirect("admin:campaigns_campaign_change", result.pk)
        return redirect("admin:campaigns_campaign_change", pk)
