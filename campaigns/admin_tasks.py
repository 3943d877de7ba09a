"""The human task admin: approvals waiting on someone; approve or reject through the service."""

from django.contrib import admin, messages
from rest_framework import exceptions as drf_exceptions

from campaigns import services
from campaigns.models import HumanTask


def _decide(request, queryset, decision):
    done = 0
    for task in queryset:
        try:
            services.decide_task(task=task, user=request.user, decision=decision)
        except drf_exceptions.APIException as exc:
            messages.error(request, f"Task {task.pk}: {exc.detail}")
        else:
            done += 1
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

    def has_add_permission(self, request):
        return False  # tasks are created by runs

    @admin.action(description="Approve the selected tasks")
    def approve_selected(self, request, queryset):
        _decide(request, queryset, "approved")

    @admin.action(description="Reject the selected tasks")
    def reject_selected(self, request, queryset):
        _decide(request, queryset, "rejected")
