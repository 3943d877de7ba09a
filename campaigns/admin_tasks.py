"""The human task admin: approvals waiting on someone; approve or reject through the service,
from the list (a selection) or from a task's page with a comment (``<id>/decide/``, POST)."""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path

from campaigns import services
from campaigns.models import HumanTask
from config.errors import DomainError

DECISIONS = {"approve": "approved", "reject": "rejected"}


def _decide_one(request, task, decision, comment=""):
    try:
        services.decide_task(task=task, user=request.user, decision=decision, comment=comment)
    except DomainError as exc:
        messages.error(request, f"Task {task.pk}: {exc.detail}")
        return False
    return True


def _decide(request, queryset, decision):
    done = sum(_decide_one(request, task, decision) for task in queryset)
    if done:
        messages.success(request, f"{done} task(s) {decision}.")


@admin.register(HumanTask)
class HumanTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "kind", "status", "group", "assignee", "due_at", "created_at")
    list_filter = ("status", "kind", "group")
    list_select_related = ("group", "assignee")
    search_fields = ("title", "message")
    actions = ("approve_selected", "reject_selected")
    readonly_fields = [f.name for f in HumanTask._meta.fields]
    change_form_template = "admin/campaigns/humantask/change_form.html"

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path("<int:pk>/decide/", decide, name="campaigns_humantask_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        task = get_object_or_404(HumanTask, pk=pk)
        decision = DECISIONS.get(request.POST.get("decision", ""))
        if request.method == "POST" and decision:
            comment = request.POST.get("comment", "")
            if _decide_one(request, task, decision, comment):
                messages.success(request, f"Task {task.pk} {decision}.")
        return redirect("admin:campaigns_humantask_change", pk)

    def has_add_permission(self, request):
        return False  # tasks are created by runs

    @admin.action(description="Approve the selected tasks")
    def approve_selected(self, request, queryset):
        _decide(request, queryset, "approved")

    @admin.action(description="Reject the selected tasks")
    def reject_selected(self, request, queryset):
        _decide(request, queryset, "rejected")
