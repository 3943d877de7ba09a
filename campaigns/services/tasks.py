"""Human tasks: deciding one (approve or reject). See ``campaigns.services``."""

from django.db import transaction
from django.utils import timezone

from campaigns import lifecycle
from campaigns.engine import jobs
from campaigns.models import ActivityRunStatus, HumanTask, HumanTaskStatus
from config.access import is_system
from config.audit import log_change
from config.errors import Forbidden, ValidationFailed

DECISIONS = ("approved", "rejected")


def _member(user, task):
    if is_system(user) or user.is_superuser:
        return True
    return bool(task.group_id) and user.groups.filter(pk=task.group_id).exists()


@transaction.atomic
def decide_task(*, task, user, decision, comment="") -> HumanTask:
    """Approve or reject a task of one of the user's groups; wakes the activity waiting on it."""
    if decision not in DECISIONS:
        raise ValidationFailed([{"path": "decision", "message": "approved or rejected"}])
    task = HumanTask.objects.select_for_update().get(pk=task.pk)
    lifecycle.check("decide_task", task, user)
    if not _member(user, task):
        raise Forbidden(f"only members of {task.group} can decide this task")
    task.status, task.decision, task.comment = HumanTaskStatus.DONE, decision, comment
    task.decided_by = None if is_system(user) else user
    task.decided_at = timezone.now()
    task.save()
    ar = task.activity_run
    if ar is not None and ar.status == ActivityRunStatus.WAITING:
        ar.due_at = timezone.now()
        ar.save(update_fields=["due_at"])
        jobs.enqueue_due([ar.pk])
    log_change(user=user, obj=task, action="change", message=f"Task {decision}.")
    return task
