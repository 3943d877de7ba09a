"""Notifications of the task queue (issue 14): email to approvers and requesters, as internal
messages (``channels.internal``: the configured email provider, the Outbox in local mode; never
the message ledger, never counted in campaign reports). ``campaigns.services.tasks`` calls them
on commit, so a rolled-back action notifies nobody; they never raise (a mail server down is
logged, the task goes on).

- ``task_created(task)``: after a task enters its group's queue (an approval activity waiting,
  a publication sent for approval, a send confirmation). To: the active members of
  ``task.group`` with an email address, and ``task.assignee``. Subject: ``task.title``; body:
  what is asked (``task.message``, ``task.reason``), the due time and the task's admin URL.
- ``task_decided(task)``: after a task is done (approved or rejected, with its comment),
  cancelled (why in ``task.comment``) or expired. To: ``task.requested_by`` for publication
  approvals, else the user who started the run (``task.run.started_by``).
- ``task_expiring(task)``: the reminder, sent once per task by the tick
  (``tasks.remind_due``) when ``TASK_REMINDER_FRACTION`` of the time between its creation and
  ``due_at`` is left; ``HumanTask.reminded_at`` records it. Same recipients as ``task_created``.

Each returns ``{address: status}`` (empty when nobody has an address).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from channels import internal

PREFIX = "[Campaigns] "


def _url(task) -> str:
    return settings.SITE_URL + reverse("admin:campaigns_humantask_change", args=[task.pk])


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}" if moment else "no due time"


def approvers(task) -> list[str]:
    """The addresses of the task's group's active members, and of its assignee."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    found = []
    if task.group_id:
        found += list(users.filter(groups=task.group_id).values_list("email", flat=True))
    if task.assignee_id:
        found += list(users.filter(pk=task.assignee_id).values_list("email", flat=True))
    return sorted(set(found))


def requester(task):
    if task.kind == "publication" and task.requested_by_id:
        return task.requested_by
    if task.run_id and task.run.started_by_id:
        return task.run.started_by
    return task.requested_by


def _body(task, first_line) -> str:
    lines = [first_line, ""]
    if task.message:
        lines.append(task.message)
    if task.reason:
        lines.append(f"Why: {task.reason}")
    lines += [f"Due: {_when(task.due_at)}", f"Open it: {_url(task)}"]
    return "\n".join(lines) + "\n"


def task_created(task) -> dict:
    """Tell the approvers of ``task.group`` that ``task`` waits for them."""
    group = task.group.name if task.group_id else "you"
    text = _body(task, f"A task waits for {group}: {task.title or task}.")
    return internal.send(to=approvers(task), subject=PREFIX + (task.title or str(task)), text=text)


def _outcome(task) -> str:
    if task.status == "done":
        who = task.decided_by.get_username() if task.decided_by_id else "the system"
        said = f": {task.comment}" if task.comment else "."
        return f"{task.decision} by {who}{said}"
    if task.status == "cancelled":
        return f"cancelled: {task.comment}" if task.comment else "cancelled."
    return f"expired: nobody decided by {_when(task.due_at)}."


def task_decided(task) -> dict:
    """Tell the requester how ``task`` ended."""
    person = requester(task)
    if person is None or not person.is_active or not person.email:
        return {}
    verdict = task.decision if task.status == "done" else task.status
    text = f"{task.title or task}: {_outcome(task)}\n\nSee it: {_url(task)}\n"
    subject = f"{PREFIX}{task.title or task}: {verdict}"
    return internal.send(to=[person.email], subject=subject, text=text)


def task_expiring(task) -> dict:
    """Remind the approvers that ``task`` expires soon."""
    text = _body(task, f"Reminder: {task.title or task} expires at {_when(task.due_at)}.")
    subject = f"{PREFIX}Reminder: {task.title or task}"
    return internal.send(to=approvers(task), subject=subject, text=text)
