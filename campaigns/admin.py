"""The campaign pages of the admin: campaigns (graph editing, validation, lifecycle), runs and human
tasks. Thin: every lifecycle change calls ``campaigns.services``; a ``Conflict`` or validation
failure becomes an error message on the page, never a 500.

- Campaign change page: activities (kind chosen from the registry, options as JSON checked by the
  kind, the kind's help text beside it, validation errors beside the activity they concern),
  transitions (ports checked against the source's kind), a picture of the graph with the counts
  of the latest run, the validation panel, recent runs, and one button per lifecycle action
  (``<id>/lifecycle/<action>/``, POST).
- Run change page (read-only): the graph, each activity run (status, timing, attempts, error,
  folded traceback), the count on each transition with a link to its first 50 rows
  (``<id>/records/<from>/<port>/``).
- Human tasks: approve or reject the selected ones (``services.decide_task``).
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from polymorphic.admin import PolymorphicInlineSupportMixin

from campaigns import admin_views, services
from campaigns.admin_inlines import ActivityInline, CampaignForm, TransitionInline, draft
from campaigns.admin_tasks import HumanTaskAdmin  # noqa: F401 - registers the task admin
from campaigns.models import Campaign, Run, RunStatus
from config.errors import DomainError, ValidationFailed

# (action, button label, service); test_run and duplicate return a run / a new campaign.
LIFECYCLE = [
    ("test_run", "Test run", services.test_run),
    ("publish", "Publish", services.publish),
    ("pause", "Pause", services.pause),
    ("resume", "Resume", services.resume),
    ("stop", "Stop", services.stop),
    ("close", "Close", services.close),
    ("duplicate", "Duplicate", services.duplicate),
    ("archive", "Archive", services.archive),
]
SERVICES = {name: service for name, _label, service in LIFECYCLE}
LABELS = {name: label for name, label, _service in LIFECYCLE}
# The permission each action needs (the model's named permissions, design 6).
PERMISSIONS = {
    "test_run": "campaigns.run_campaign",
    "publish": "campaigns.publish_campaign",
    "pause": "campaigns.run_campaign",
    "resume": "campaigns.run_campaign",
    "stop": "campaigns.run_campaign",
    "close": "campaigns.run_campaign",
    "duplicate": "campaigns.add_campaign",
    "archive": "campaigns.change_campaign",
}
REFUSALS = (ValidationFailed, DomainError)


def refusal_message(exc):
    """The text of a refused action: every ``path: message`` of a validation failure."""
    if isinstance(exc, ValidationFailed):
        return "Invalid campaign: " + "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors)
    return str(exc.detail)


def duration(start, end):
    if not (start and end):
        return "-"
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _lifecycle_action(name, label):
    def action(modeladmin, request, queryset):
        for campaign in queryset:
            modeladmin.perform(request, campaign, name)

    action.__name__ = f"{name}_selected"
    return admin.action(description=f"{label} the selected campaigns")(action)


@admin.register(Campaign)
class CampaignAdmin(PolymorphicInlineSupportMixin, admin.ModelAdmin):
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
    actions = [_lifecycle_action(name, label) for name, label, _s in LIFECYCLE]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    fields = (
        "name",
        "description",
        "status",
        "schedule",
        "error_policy",
        "variables",
        "next_launch_at",
        "graph",
        "validation",
        "recent_runs",
        "activity_kinds",
    )
    computed = ("status", "next_launch_at", "graph", "validation", "recent_runs", "activity_kinds")

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

    def get_readonly_fields(self, request, obj=None):
        if draft(obj):
            return self.computed
        return self.fields

    @admin.display(description="schedule", ordering="schedule__frequency")
    def frequency(self, obj):
        return (obj.schedule or {}).get("frequency", "-")

    @admin.display(description="last run", ordering="last_run")
    def last_run_status(self, obj):
        return obj.last_run or "-"

    @admin.display(description="activities", ordering="n_activities")
    def activity_count(self, obj):
        return obj.n_activities

    @admin.display(description="graph (counts of the latest run)")
    def graph(self, obj):
        return admin_views.campaign_picture(obj) if obj.pk else "-"

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
        if not change and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view(self.lifecycle_view)
        return [
            path("<int:pk>/lifecycle/<str:action>/", view, name="campaigns_campaign_lifecycle"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        if campaign is not None and request.method == "GET":
            if admin_views.errors_by_activity(campaign):
                messages.warning(request, "This campaign has validation errors (see Validation).")
        context = {
            "lifecycle": [
                (name, label, reverse("admin:campaigns_campaign_lifecycle", args=[object_id, name]))
                for name, label, _s in LIFECYCLE
            ]
            if campaign is not None
            else [],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def perform(self, request, campaign, name, **arguments):
        """Call the service of lifecycle action ``name`` (with ``arguments``); report the
        outcome as a message. Returns what the service returned, or None when it refused."""
        if not request.user.has_perm(PERMISSIONS[name]):
            messages.error(request, f"{campaign}: {LABELS[name]} needs {PERMISSIONS[name]}.")
            return None
        try:
            result = SERVICES[name](campaign=campaign, user=request.user, **arguments)
        except REFUSALS as exc:
            messages.error(request, f"{campaign}: {refusal_message(exc)}")
            return None
        if isinstance(result, Run):
            url = reverse("admin:campaigns_run_change", args=[result.pk])
            text = format_html(
                '{}: test run <a href="{}">{}</a> started.', campaign, url, result.pk
            )
        elif isinstance(result, Campaign) and result.pk != campaign.pk:
            text = f"{campaign}: duplicated as {result}."
        else:
            text = f"{campaign}: {name.replace('_', ' ')} done; now {result.status}."
        messages.success(request, text)
        return result

    def lifecycle_view(self, request, pk, action):
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method != "POST" or action not in SERVICES:
            return redirect("admin:campaigns_campaign_change", pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        arguments = {}
        if action == "test_run" and request.POST.get("variables", "").strip():
            try:
                arguments["variables"] = json.loads(request.POST["variables"])
            except ValueError as exc:
                messages.error(request, f"{campaign}: variables are not JSON ({exc}).")
                return redirect("admin:campaigns_campaign_change", pk)
        result = self.perform(request, campaign, action, **arguments)
        if isinstance(result, Campaign) and result.pk != campaign.pk:
            return redirect("admin:campaigns_campaign_change", result.pk)
        return redirect("admin:campaigns_campaign_change", pk)


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "mode", "status", "started_at", "run_duration")
    list_filter = ("status", "test", "campaign")
    list_select_related = ("campaign",)
    search_fields = ("campaign__name",)
    fields = (
        "campaign",
        "version",
        "mode",
        "status",
        "trigger",
        "started_by",
        "variables",
        "created_at",
        "started_at",
        "finished_at",
        "run_duration",
        "error",
        "graph",
        "activities_table",
        "transitions_table",
    )
    readonly_fields = fields
    change_form_template = "admin/campaigns/run/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="mode", ordering="test")
    def mode(self, obj):
        return "test" if obj.test else "live"

    @admin.display(description="duration")
    def run_duration(self, obj):
        return duration(obj.started_at, obj.finished_at)

    @admin.display(description="graph")
    def graph(self, obj):
        return admin_views.run_picture(obj)

    @admin.display(description="activities")
    def activities_table(self, obj):
        return admin_views.activity_runs_table(obj)

    @admin.display(description="transitions")
    def transitions_table(self, obj):
        return admin_views.transitions_table(obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/records/<str:source>/<str:port>/",
                view(self.records_view),
                name="campaigns_run_records",
            ),
            path("<int:pk>/stop/", view(self.stop_view), name="campaigns_run_stop"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        going = (*services.ACTIVE_RUNS, RunStatus.PAUSED)
        stoppable = Run.objects.filter(pk=object_id, status__in=going).exists()
        stop = reverse("admin:campaigns_run_stop", args=[object_id]) if stoppable else None
        context = {"stop_url": stop, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def stop_view(self, request, pk):
        """Stop one run (``services.stop_run``); a finished run is a message, not an error page."""
        run = get_object_or_404(Run, pk=pk)
        if request.method == "POST":
            if not request.user.has_perm("campaigns.run_campaign"):
                messages.error(request, "Stopping a run needs campaigns.run_campaign.")
                return redirect("admin:campaigns_run_change", pk)
            try:
                services.stop_run(run=run, user=request.user)
            except REFUSALS as exc:
                messages.error(request, f"Run {run.pk}: {refusal_message(exc)}")
            else:
                messages.success(request, f"Run {run.pk} stopped.")
        return redirect("admin:campaigns_run_change", pk)

    def records_view(self, request, pk, source, port):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(Run.objects.select_related("campaign"), pk=pk)
        population, headers, rows = admin_views.transition_rows(run, source, port)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Run {run.pk}: {source}.{port}",
            "opts": self.opts,
            "run": run,
            "population": population,
            "headers": headers,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/campaigns/run/records.html", context)
