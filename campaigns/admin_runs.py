"""The run pages of the admin (read-only): the graph of the run's version with its counts, each
activity run (status, timing, attempts, error with its traceback folded), the count on each
transition with a link to its first 50 rows (``<id>/records/<from>/<port>/``, personal data:
``audiences.view_records``), and a Stop button when the lifecycle table allows it."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns import admin_views, lifecycle, services
from campaigns.models import Run
from config.access import allowed
from config.errors import DomainError


def duration(start, end):
    if not (start and end):
        return "-"
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


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
        run = Run.objects.filter(pk=object_id).first()
        stoppable = run is not None and any(
            a.name == "stop_run" for a in lifecycle.available(run, request.user, "run")
        )
        stop = reverse("admin:campaigns_run_stop", args=[object_id]) if stoppable else None
        context = {
            "stop_url": stop,
            "records_allowed": allowed(request.user, "audiences.view_records"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def stop_view(self, request, pk):
        """Stop one run (``services.stop_run``); a refusal is a message, not an error page."""
        run = get_object_or_404(Run, pk=pk)
        if request.method == "POST":
            try:
                services.stop_run(run=run, user=request.user)
            except DomainError as exc:
                messages.error(request, f"Run {run.pk}: {exc}")
            else:
                messages.success(request, f"Run {run.pk} stopped.")
        return redirect("admin:campaigns_run_change", pk)

    def records_view(self, request, pk, source, port):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(Run.objects.select_related("campaign", "version"), pk=pk)
        try:
            population, headers, rows = admin_views.transition_rows(run, source, port, request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("admin:campaigns_run_change", pk)
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
