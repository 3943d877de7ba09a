"""Notifications of the task queue (issue 14): THE place where email to approvers and
requesters plugs in. NOT BUILT YET: these functions send nothing.

They wait for the channel layer's email provider (``CHANNEL_PROVIDERS["email"]``, design 9) and
its internal messages (sent to staff, never counted in campaign reports). When it exists, each
function renders its message and hands it to that provider; nothing else in the queue changes,
since ``campaigns.services.tasks`` already calls them, on commit, at the right moments:

- ``task_created(task)``: after a task enters its group's queue (an approval activity waiting,
  a publication sent for approval, a send confirmation). To: the active members of
  ``task.group`` (and ``task.assignee`` once assigned). Subject: ``task.title``; body: what the
  approver is asked (``task.message``, ``task.reason``), the due time and the task's admin URL.
- ``task_decided(task)``: after a task is done (approved or rejected, with its comment),
  cancelled (why in ``task.comment``) or expired. To: ``task.requested_by`` for publication
  approvals, else the user who started the run (``task.run.started_by``).
- ``task_expiring(task)``: the reminder before ``task.due_at`` (the tick should call it once
  per task, e.g. when a fraction of the time is left, recording that it did).
"""


def task_created(task) -> None:
    """Tell the approvers of ``task.group`` that ``task`` waits for them (not built yet)."""
    return None


def task_decided(task) -> None:
    """Tell the requester how ``task`` ended (not built yet)."""
    return None


def task_expiring(task) -> None:
    """Remind the approvers that ``task`` expires soon (not built yet)."""
    return None
