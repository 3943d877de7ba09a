"""REST endpoints of the human task queue (issue 14, design 6): ``tasks/`` (filter by
``status``, ``kind``, ``mine``), ``tasks/{id}/`` with what the approver sees (``review``),
``assign/``, ``approve/`` and ``reject/``. Views only parse the request and call
``campaigns.services`` (the lifecycle table, four eyes, distinct approvals) and
``campaigns.review``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import lifecycle, review, services
from campaigns.models import HumanTask, HumanTaskStatus
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination
from config.api.requests import body_object
from config.errors import ValidationFailed

STRING, WHEN = {"type": "string"}, {"type": "string", "format": "date-time", "nullable": True}
NAME = {"type": "string", "nullable": True}
APPROVAL = {
    "type": "object",
    "properties": {
        "user": STRING,
        "at": {"type": "string", "format": "date-time"},
        "comment": STRING,
    },
}
TASK_PROPERTIES = {
    "id": {"type": "integer"},
    "kind": {"type": "string", "description": "approval, publication, send_confirmation..."},
    "status": {"type": "string", "enum": list(HumanTaskStatus.values)},
    "title": STRING,
    "message": STRING,
    "group": NAME,
    "assignee": NAME,
    "decision": {"type": "string", "description": "approved, rejected or empty"},
    "comment": STRING,
    "decided_by": NAME,
    "decided_at": WHEN,
    "due_at": WHEN,
    "created_at": {"type": "string", "format": "date-time"},
    "run": {"type": "integer", "nullable": True},
    "activity": NAME,
    "campaign": {"type": "integer", "nullable": True},
    "policy": NAME,
    "reason": STRING,
    "requested_by": NAME,
    "approvals_needed": {"type": "integer"},
    "approvals": {"type": "array", "items": APPROVAL},
    "version": {"type": "integer", "nullable": True, "description": "The version it published."},
    "actions": {"type": "array", "items": STRING, "description": "What you may do now."},
    "delivery": {
        "type": "object",
        "nullable": True,
        "description": "A send confirmation's delivery: its final count and rendered samples.",
    },
}
TASK = {"type": "object", "properties": TASK_PROPERTIES}
CHANGE = {
    "type": "object",
    "properties": {
        "section": {"type": "string", "enum": ["setting", "activity", "transition"]},
        "key": STRING,
        "change": {"type": "string", "enum": ["added", "removed", "changed"]},
        "field": NAME,
        "before": {},
        "after": {},
        "paths": {"type": "array", "items": STRING},
    },
}
REVIEW = {
    "type": "object",
    "description": "What the approver sees before deciding (campaigns.review).",
    "properties": {
        "requested_by": STRING,
        "requested_at": {"type": "string", "format": "date-time"},
        "reason": STRING,
        "approvals_needed": {"type": "integer"},
        "approvals": {"type": "array", "items": APPROVAL},
        "graph": {"type": "object", "nullable": True, "additionalProperties": True},
        "samples": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "diff": {
            "type": "object",
            "nullable": True,
            "properties": {
                "against": {"type": "integer", "nullable": True},
                "against_label": STRING,
                "changes": {"type": "array", "items": CHANGE},
                "patch": {
                    "type": "array",
                    "items": {"type": "object", "additionalProperties": True},
                },
            },
        },
    },
}
TASK_DETAIL = {"type": "object", "properties": {**TASK_PROPERTIES, "review": REVIEW}}
COMMENT = {
    "application/json": {
        "type": "object",
        "properties": {"comment": {"type": "string", "description": "Shown to the requester."}},
    }
}
ASSIGNEE = {
    "application/json": {
        "type": "object",
        "properties": {
            "assignee": {
                "type": "string",
                "nullable": True,
                "description": "A member of the task's group (username); empty: yourself.",
            }
        },
    }
}


def _username(user):
    return user.get_username() if user is not None else None


def task_data(task, user=None) -> dict:
    return {
        "id": task.pk,
        "kind": task.kind,
        "status": task.status,
        "title": task.title,
        "message": task.message,
        "group": task.group.name if task.group else None,
        "assignee": _username(task.assignee),
        "decision": task.decision,
        "comment": task.comment,
        "decided_by": _username(task.decided_by),
        "decided_at": task.decided_at,
        "due_at": task.due_at,
        "created_at": task.created_at,
        "run": task.run_id,
        "activity": task.activity_run.key if task.activity_run else None,
        "campaign": task.campaign_id,
        "policy": task.policy.name if task.policy else None,
        "reason": task.reason,
        "requested_by": _username(task.requested_by),
        "approvals_needed": task.approvals_needed,
        "approvals": [
            {"user": _username(a.user) or "the system", "at": a.approved_at, "comment": a.comment}
            for a in task.approvals.all()
        ],
        "version": task.version.number if task.version else None,
        "actions": [a.name for a in lifecycle.available(task, user, "task")] if user else [],
        "delivery": _delivery_of(task, user) if task.kind == "send_confirmation" else None,
    }


def _delivery_of(task, user):
    """A send confirmation's delivery: the final count and the rendered samples."""
    from campaigns.activities.channel import confirmation_delivery
    from channels.api import delivery_data

    delivery = confirmation_delivery(task)
    return delivery_data(delivery, user, samples=True) if delivery else None


def _choice(request, name, choices):
    value = request.query_params.get(name)
    if value and value not in choices:
        raise ValidationFailed([{"path": name, "message": f"one of {', '.join(choices)}"}])
    return value


RELATED = ("group", "assignee", "decided_by", "requested_by", "policy", "activity_run", "version")


class TaskViewSet(viewsets.ViewSet):
    """Human tasks, one queue: approval activities, publication approvals, send confirmations."""

    queryset = HumanTask.objects.all()
    lookup_value_regex = r"\d+"

    def _get(self, pk):
        return get_object_or_404(HumanTask.objects.select_related(*RELATED), pk=pk)

    @extend_schema(
        operation_id="tasks_list",
        parameters=[
            OpenApiParameter("status", str, required=False, enum=list(HumanTaskStatus.values)),
            OpenApiParameter("kind", str, required=False),
            OpenApiParameter(
                "mine", bool, required=False,
                description="Only the open tasks of your groups or assigned to you (My tasks).",
            ),
        ],
        responses={200: Page(TASK)},
    )  # fmt: skip
    def list(self, request):
        mine = _choice(request, "mine", ("true", "false")) == "true"
        tasks = services.open_tasks(request.user) if mine else HumanTask.objects.all()
        tasks = tasks.select_related(*RELATED).prefetch_related("approvals__user")
        wanted = _choice(request, "status", list(HumanTaskStatus.values))
        if wanted:
            tasks = tasks.filter(status=wanted)
        if request.query_params.get("kind"):
            tasks = tasks.filter(kind=request.query_params["kind"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response([task_data(t, request.user) for t in page])

    @extend_schema(responses={200: TASK_DETAIL})
    def retrieve(self, request, pk=None):
        task = self._get(pk)
        return Response(
            {**task_data(task, request.user), "review": review.review(task, request.user)}
        )

    def _decide(self, request, pk, decision):
        comment = body_object(request, ["comment"]).get("comment") or ""
        if not isinstance(comment, str) or "\x00" in comment:
            raise ValidationFailed([{"path": "comment", "message": "must be text"}])
        task = services.decide_task(
            task=self._get(pk), user=request.user, decision=decision, comment=comment
        )
        return Response(task_data(self._get(task.pk), request.user))

    @extend_schema(request=COMMENT, responses={200: TASK})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (confirms a send; counts one approval of a publication)."""
        return self._decide(request, pk, "approved")

    @extend_schema(request=COMMENT, responses={200: TASK})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject (cancels a send; returns a campaign waiting for approval to draft)."""
        return self._decide(request, pk, "rejected")

    @extend_schema(request=ASSIGNEE, responses={200: TASK})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign, or reassign, to a member of the task's group (yourself by default)."""
        assignee = body_object(request, ["assignee"]).get("assignee")
        if assignee is not None and not isinstance(assignee, str):
            raise ValidationFailed([{"path": "assignee", "message": "a username"}])
        task = services.assign_task(task=self._get(pk), user=request.user, assignee=assignee)
        return Response(task_data(self._get(task.pk), request.user))
