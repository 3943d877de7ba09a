"""The human task admin (issue 14): one queue of approval activities, publication approvals and
send confirmations. Thin: every change calls ``campaigns.services`` (the lifecycle table, four
eyes, distinct approvals); a refusal is an error message, never a 500.

- ``mine/``: "My tasks", the open tasks of the user's groups or assigned to them (the admin
  header shows their count, ``campaigns.templatetags.task_badges``);
- a task's page: who asked and when, why, the approvals so far, and what the approver looks at
  (``campaigns.review``): the graph with the counts of the latest test run, the content for
  sample recipients, the readable diff against the last approved version; then Approve /
  Reject with a comment (``<id>/decide/``, POST) and Assign (``<id>/assign/``, POST), each
  shown only when the lifecycle table allows it for this user;
- the list: approve or reject a selection.
"""

import threading

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns import admin_review, lifecycle, review, services, task_kinds
from campaigns.models import OPEN_TASK, HumanTask
from config.errors import DomainError

DECISIONS = {"approve": "approved", "reject": "rejected"}


def _decide_one(request, task, decision, comment=""):
    try:
        done = services.decide_task(
            task=task, user=request.user, decision=decision, comment=comment
        )
    except DomainError as exc:
        messages.error(request, f"Task {task.pk}: {exc.detail}")
        return None
    return done


def _decide(request, queryset, decision):
    done = sum(_decide_one(request, task, decision) is not None for task in queryset)
    if done:
        messages.success(request, f"{done} task(s) {decision}.")


def _outcome(task, decision):
    if task.status == "done":
        return f"Task {task.pk} {decision}."
    return (
        f"Task {task.pk}: approval recorded ({task.approvals.count()} of {task.approvals_needed})."
    )


def reach(seen: dict) -> list[tuple[str, int | None]]:
    """``[(channel activity, count)]``: how many records flow into each channel activity in the
    run under review (None: not counted), so the approver sees at once how many it reaches."""
    graph = seen.get("graph") or {"transitions": []}
    inbound = {t["to"]: t["count"] for t in graph["transitions"]}
    return [(s["label"] or s["activity"], inbound.get(s["activity"])) for s in seen["samples"]]


@admin.register(HumanTask)
class HumanTaskAdmin(admin.ModelAdmin):
    list_display = (
        "id", "title", "kind", "status", "group", "assignee", "campaign", "requested_by",
        "due_at", "created_at",
    )  # fmt: skip
    list_filter = ("status", "kind", "group")
    list_select_related = ("group", "assignee", "campaign", "requested_by")
    search_fields = ("title", "message", "campaign__name")
    actions = ("approve_selected", "reject_selected")
    readonly_fields = (
        "title", "kind", "status", "group", "assignee", "due_at", "campaign", "run", "policy",
        "reason", "message", "requested_by", "created_at", "approvals_so_far", "decision",
        "comment", "decided_by", "decided_at", "version", "send", "reminded_at",
    )  # fmt: skip
    change_form_template = "admin/campaigns/humantask/change_form.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("mine/", wrap(self.mine_view), name="campaigns_humantask_mine"),
            path("<int:pk>/decide/", wrap(self.decide_view), name="campaigns_humantask_decide"),
            path("<int:pk>/assign/", wrap(self.assign_view), name="campaigns_humantask_assign"),
            *super().get_urls(),
        ]

    @admin.display(description="approvals")
    def approvals_so_far(self, obj):
        names = ", ".join(
            a.user.get_username() if a.user else "the system" for a in obj.approvals.all()
        )
        return f"{obj.approvals.count()} of {obj.approvals_needed}" + (
            f": {names}" if names else ""
        )

    def get_fieldsets(self, request, obj=None):
        asked = ["campaign", "run", "policy", "reason", "message", "requested_by", "created_at"]
        asked = [f for f in asked if obj is None or getattr(obj, f, None) not in (None, "")]
        sets = [
            (
                "Task",
                {
                    "fields": (
                        "title",
                        "kind",
                        "status",
                        "group",
                        "assignee",
                        "due_at",
                        *(["reminded_at"] if obj is not None and obj.reminded_at else []),
                    )
                },
            ),
            ("The request", {"fields": (*asked, "approvals_so_far")}),
        ]
        if obj is not None and obj.kind == "send_confirmation":
            sets.append(("What will be sent", {"fields": ("send",)}))
        if obj is not None and obj.status not in OPEN_TASK:
            outcome = ("decision", "comment", "decided_by", "decided_at", "version")
            sets.append(("Outcome", {"fields": outcome}))
        return sets

    def has_add_permission(self, request):
        return False  # tasks are created by runs and publications

    def has_change_permission(self, request, obj=None):
        return False  # decided through the buttons (the services), never edited

    def has_delete_permission(self, request, obj=None):
        return False  # the queue keeps its history

    def change_view(self, request, object_id, form_url="", extra_context=None):
        task = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if task is not None:
            context.update(self.review_context(request, task))
        return super().change_view(request, object_id, form_url, extra_context=context)

    def review_context(self, request, task):
        seen = review.review(task, request.user)
        definition, run, _campaign, _version = task_kinds.get(task.kind).subject(task)
        actions = {a.name for a in lifecycle.available(task, request.user, "task")}
        context = {
            "review": seen,
            "can_decide": task_kinds.get(task.kind).decide_action in actions,
            "can_assign": "assign_task" in actions,
            "members": task.group.user_set.filter(is_active=True).order_by("username")
            if task.group
            else [],
        }
        context["reach"] = reach(seen)
        if definition is not None:
            diff = seen["diff"]
            context["graph_html"] = admin_review.graph_block(seen, definition, run)
            context["samples_html"] = admin_review.samples_block(seen["samples"])
            context["diff_html"] = admin_review.diff_table(
                diff["changes"], diff["against_label"], "what is asked"
            )
        return context

    def decide_view(self, request, pk):
        task = get_object_or_404(HumanTask, pk=pk)
        decision = DECISIONS.get(request.POST.get("decision", ""))
        if request.method == "POST" and decision:
            comment = request.POST.get("comment", "")
            done = _decide_one(request, task, decision, comment)
            if done is not None:
                messages.success(request, _outcome(done, decision))
        return redirect("admin:campaigns_humantask_change", pk)

    def assign_view(self, request, pk):
        task = get_object_or_404(HumanTask, pk=pk)
        if request.method == "POST":
            try:
                done = services.assign_task(
                    task=task, user=request.user, assignee=request.POST.get("assignee") or None
                )
            except DomainError as exc:
                messages.error(request, f"Task {task.pk}: {exc.detail}")
            else:
                messages.success(request, f"Task {task.pk} assigned to {done.assignee}.")
        return redirect("admin:campaigns_humantask_change", pk)

    def mine_view(self, request):
        tasks = list(services.open_tasks(request.user))
        context = {
            **self.admin_site.each_context(request),
            "title": "My tasks",
            "tasks": tasks,
            "opts": self.model._meta,
            "rows": [(task, self._link(task)) for task in tasks],
        }
        return TemplateResponse(request, "admin/campaigns/humantask/mine.html", context)

    def _link(self, task):
        url = reverse("admin:campaigns_humantask_change", args=[task.pk])
        return format_html('<a href="{}">{}</a>', url, task.title or f"task {task.pk}")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._viewer.user = request.user
        return super().changeform_view(request, object_id, form_url, extra_context)

    _viewer = threading.local()

    @admin.display(description="what will be sent")
    def send(self, obj):
        from campaigns.activities.channel import confirmation_delivery
        from channels.admin import delivery_panel

        delivery = confirmation_delivery(obj)
        return delivery_panel(delivery, self._viewer.user) if delivery else "-"

    @admin.action(description="Approve the selected tasks")
    def approve_selected(self, request, queryset):
        _decide(request, queryset, "approved")

    @admin.action(description="Reject the selected tasks")
    def reject_selected(self, request, queryset):
        _decide(request, queryset, "rejected")
