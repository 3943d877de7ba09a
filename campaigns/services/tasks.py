"""The queue of human tasks (issue 14): approval activities, publication approvals and send
confirmations alike; what differs per kind is ``campaigns.task_kinds``. See
``campaigns.services`` for the conventions (``user=``, lifecycle table, audit).

Statuses move only along ``TRANSITIONS``: new -> assigned (assign) -> done (decided),
cancelled (the run stopped, the request voided) or expired (past ``due_at``); a new task may be
decided, cancelled or expired without being assigned first, and an assigned one reassigned.

- ``create_task(**fields) -> HumanTask``: a new task in its group's queue (audited; approvers
  are notified on commit, ``campaigns.services.notifications``).
- ``assign_task(*, task, user, assignee=None)``: assign or reassign (lifecycle row
  ``assign_task``); ``assignee`` a user or a username, by default ``user`` (take it). The
  assignee must be active and in the task's group (superusers may decide anything).
- ``decide_task(*, task, user, decision, comment="")``: ``approved`` or ``rejected`` (lifecycle
  row of the kind's ``decide_action``: ``decide_task`` unless the kind says otherwise), by a
  member of the task's group; the kind may ask for more approvals before the task is done.
- ``cancel_task(task, *, user, why)`` / ``expire_task(task)``: end an open task.
- ``expire_due(now=None) -> int``: the tick: every open task past ``due_at`` expires and its
  kind follows (an approval activity is woken and takes its ``on_expiry`` port).
- ``remind_due(now=None) -> int``: the tick: every open task with a ``due_at`` whose remaining
  time fell to ``TASK_REMINDER_FRACTION`` of its whole (created to due) is marked
  ``reminded_at`` (once: a conditional UPDATE, so concurrent ticks never remind twice) and its
  approvers get ``notifications.task_expiring`` on commit.
- ``open_tasks(user)``: "My tasks": the open tasks of the user's groups or assigned to them.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone

from campaigns import lifecycle, task_kinds
from campaigns.models import OPEN_TASK, Campaign, HumanTask, HumanTaskStatus
from campaigns.services import notifications
from config.access import SYSTEM, is_system, real_user
from config.audit import log_change
from config.errors import Conflict, Forbidden, ValidationFailed

T = HumanTaskStatus
DECISIONS = ("approved", "rejected")
TRANSITIONS = {
    T.NEW: {T.ASSIGNED, T.DONE, T.CANCELLED, T.EXPIRED},
    T.ASSIGNED: {T.ASSIGNED, T.DONE, T.CANCELLED, T.EXPIRED},
}


def move(task, status) -> None:
    """Set ``task.status`` to ``status`` if ``TRANSITIONS`` allows it, else ``Conflict``."""
    if status not in TRANSITIONS.get(task.status, ()):
        raise Conflict(f"a task that is {task.status} cannot become {status}")
    task.status = status


def member(user, task) -> bool:
    """``user`` belongs to the task's group (superusers and the system act for every group)."""
    if is_system(user) or getattr(user, "is_superuser", False):
        return True
    return bool(task.group_id) and user.groups.filter(pk=task.group_id).exists()


def _locked(task):
    """The task's row locked, after its campaign's (the editing services' order: no deadlock)."""
    if task.campaign_id:
        list(Campaign.objects.select_for_update().filter(pk=task.campaign_id).values_list("pk"))
    return HumanTask.objects.select_for_update(of=("self",)).select_related("group").get(pk=task.pk)


def create_task(*, user=SYSTEM, **fields) -> HumanTask:
    task = HumanTask.objects.create(**fields)
    log_change(
        user=user, obj=task, action="add", event="task_created",
        message=f"Task created for {task.group or 'nobody'}: {task.title}",
        after={"status": task.status, "group": str(task.group or "")},
    )  # fmt: skip
    transaction.on_commit(lambda: notifications.task_created(task))
    return task


def _assignee(value, user):
    if value is None or value == "":
        return user
    if isinstance(value, str):
        found = get_user_model().objects.filter(username=value).first()
        if found is None:
            raise ValidationFailed([{"path": "assignee", "message": f"no user named {value!r}"}])
        return found
    return value


@transaction.atomic
def assign_task(*, task, user, assignee=None) -> HumanTask:
    task = _locked(task)
    lifecycle.check("assign_task", task, user)
    if not member(user, task):
        raise Forbidden(f"only members of {task.group} can assign this task")
    chosen = _assignee(assignee, user)
    if is_system(chosen) or not chosen.is_active or not member(chosen, task):
        raise Conflict(f"{chosen} is not an active member of {task.group}")
    task_kinds.get(task.kind).check_assignee(task, chosen)
    before = {"status": task.status, "assignee": str(task.assignee or "")}
    move(task, T.ASSIGNED)
    task.assignee = chosen
    task.save(update_fields=["status", "assignee"])
    verb = "Reassigned" if before["assignee"] else "Assigned"
    log_change(
        user=user, obj=task, action="change", event="task_assigned",
        message=f"{verb} to {chosen.get_username()}.",
        before=before, after={"status": task.status, "assignee": chosen.get_username()},
    )  # fmt: skip
    return task


@transaction.atomic
def decide_task(*, task, user, decision, comment="") -> HumanTask:
    """Approve or reject ``task`` (module docstring); returns it, done or still waiting."""
    if decision not in DECISIONS:
        raise ValidationFailed([{"path": "decision", "message": "approved or rejected"}])
    task = _locked(task)
    kind = task_kinds.get(task.kind)
    lifecycle.check(kind.decide_action, task, user)
    if not member(user, task):
        raise Forbidden(f"only members of {task.group} can decide this task")
    kind.check_decision(task, user, decision)
    before = {"status": task.status}
    if not kind.record(task, user, decision, comment):
        log_change(
            user=user, obj=task, action="change", event="approve",
            message=f"Approved ({task.approvals.count()} of {task.approvals_needed}).",
            before=before, after={"status": task.status, "approvals": task.approvals.count()},
        )  # fmt: skip
        return task
    move(task, T.DONE)
    task.decision, task.comment = decision, comment
    task.decided_by, task.decided_at = real_user(user), timezone.now()
    task.save()
    event = "approve" if decision == "approved" else "reject"
    log_change(
        user=user, obj=task, action="change", event=event,
        message=f"Task {decision}" + (f": {comment}" if comment else "."),
        before=before, after={"status": task.status, "decision": decision},
    )  # fmt: skip
    kind.decided(task, user)
    transaction.on_commit(lambda: notifications.task_decided(task))
    return task


def cancel_task(task, *, user, why) -> HumanTask:
    """End an open task as cancelled, ``why`` kept as its comment (in the caller's transaction)."""
    before = {"status": task.status}
    move(task, T.CANCELLED)
    task.comment = why
    task.save(update_fields=["status", "comment"])
    log_change(
        user=user, obj=task, action="change", event="task_cancelled", message=f"Cancelled: {why}",
        before=before, after={"status": task.status},
    )  # fmt: skip
    task_kinds.get(task.kind).cancelled(task)
    transaction.on_commit(lambda: notifications.task_decided(task))
    return task


def expire_task(task) -> HumanTask:
    """End an open task as expired (by the system), in the caller's transaction."""
    before = {"status": task.status}
    move(task, T.EXPIRED)
    task.save(update_fields=["status"])
    log_change(
        user=SYSTEM, obj=task, action="change", event="task_expired",
        message=f"Expired: nobody decided by {task.due_at:%Y-%m-%d %H:%M %Z}.",
        before=before, after={"status": task.status},
    )  # fmt: skip
    transaction.on_commit(lambda: notifications.task_decided(task))
    return task


def expire_due(now=None) -> int:
    """The tick's part: expire the open tasks past their due time; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = HumanTask.objects.select_for_update(skip_locked=True).filter(
            status__in=OPEN_TASK, due_at__lte=now
        )
        expired = 0
        for task in due.order_by("due_at", "id"):
            expire_task(task)
            task_kinds.get(task.kind).expired(task)
            expired += 1
    return expired


def remind_due(now=None) -> int:
    """The tick's part: remind the approvers of the tasks about to expire; returns how many."""
    now = now or timezone.now()
    fraction = float(settings.TASK_REMINDER_FRACTION)
    if fraction <= 0:
        return 0
    whole = F("due_at") - F("created_at")
    remind_at = ExpressionWrapper(F("due_at") - whole * fraction, output_field=DateTimeField())
    with transaction.atomic():
        due = (
            HumanTask.objects.select_for_update(skip_locked=True)
            .filter(status__in=OPEN_TASK, reminded_at__isnull=True, due_at__gt=now)
            .alias(remind_at=remind_at)
            .filter(remind_at__lte=now)
        )
        picked = list(due.values_list("pk", flat=True))
        HumanTask.objects.filter(pk__in=picked, reminded_at__isnull=True).update(reminded_at=now)
        for task in HumanTask.objects.filter(pk__in=picked).select_related("group", "assignee"):
            transaction.on_commit(lambda task=task: notifications.task_expiring(task))
    return len(picked)


def open_tasks(user):
    """The open tasks of ``user``'s groups, or assigned to them, oldest due first."""
    if not getattr(user, "is_authenticated", False):
        return HumanTask.objects.none()
    mine = Q(group__in=user.groups.all()) | Q(assignee=user)
    return (
        HumanTask.objects.filter(mine, status__in=OPEN_TASK)
        .select_related("group", "assignee", "campaign", "requested_by")
        .order_by("due_at", "created_at", "id")
    )
