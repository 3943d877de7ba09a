"""Kinds of human task (issue 14): what is particular to each kind of work in the one queue.

``campaigns.services.tasks`` runs the queue (create, assign, decide, cancel, expire) for every
kind alike and asks the task's kind, an instance of a ``TaskKind`` subclass registered here with
``register``, what differs. Built in: ``approval`` (an approval activity waiting in a run) and
``publication`` (a publish that a policy sends for approval). A send confirmation (design 10)
is one more subclass, registered by the module that creates those tasks:

    class SendConfirmation(TaskKind):
        name, label = "send_confirmation", "Send confirmation"
        decide_action = "confirm_send"          # its lifecycle row and codename
        def decided(self, task, user): wake(task)
        def expired(self, task): wake(task)
    register(SendConfirmation())

The contract (each method has a default that suits a task with no special rules):
- ``name``, ``label``; ``decide_action``: the lifecycle row checked for approve/reject;
- ``check_assignee(task, assignee)``, ``check_decision(task, user, decision)``: raise
  ``Forbidden`` / ``Conflict`` to refuse (four eyes, an approval given twice);
- ``record(task, user, decision, comment) -> bool``: note one decision; True when it settles the
  task (it then becomes done), False when it waits for more (a second approval);
- ``decided(task, user)``, ``expired(task)``, ``cancelled(task)``: what follows, in the same
  transaction (wake the waiting activity run, publish the campaign...);
- ``subject(task) -> (definition, run, campaign, version)``: what the approver looks at: the
  definition, the run whose counts and populations illustrate it, the campaign, and the version
  it is bound to (None for a definition not yet published), for ``campaigns.review``.
"""

from django.utils import timezone

from campaigns.models import ActivityRunStatus

KINDS = {}


def wake(task) -> None:
    """Wake the activity run waiting on ``task`` now (on commit), so its kind reads the outcome."""
    from campaigns.engine import jobs

    activity_run = task.activity_run
    if activity_run is not None and activity_run.status == ActivityRunStatus.WAITING:
        activity_run.due_at = timezone.now()
        activity_run.save(update_fields=["due_at"])
        jobs.enqueue_due([activity_run.pk])


class TaskKind:
    name = ""
    label = ""
    decide_action = "decide_task"

    def check_assignee(self, task, assignee) -> None:
        return None

    def check_decision(self, task, user, decision) -> None:
        return None

    def record(self, task, user, decision, comment) -> bool:
        return True

    def decided(self, task, user) -> None:
        return None

    def expired(self, task) -> None:
        return None

    def cancelled(self, task) -> None:
        return None

    def subject(self, task):
        run = task.run
        if run is None:
            return None, None, task.campaign, None
        return run.version.definition, run, run.campaign, run.version


class ApprovalActivityTask(TaskKind):
    """An ``approval`` activity's question: its decision (or expiry) picks the run's port."""

    name, label = "approval", "Approval activity"

    def decided(self, task, user):
        wake(task)

    def expired(self, task):
        wake(task)


class PublicationTask(TaskKind):
    """A publish waiting for approval (``campaigns.services.approvals``): four eyes, distinct
    approvals bound to the definition's hash, publication once every policy's task is approved."""

    name, label = "publication", "Publication approval"

    def check_assignee(self, task, assignee):
        from campaigns.services import approvals

        approvals.check_approver(task, assignee, assigning=True)

    def check_decision(self, task, user, decision):
        from campaigns.services import approvals

        if decision == "approved":
            approvals.check_approver(task, user)

    def record(self, task, user, decision, comment):
        from campaigns.services import approvals

        return decision == "rejected" or approvals.add_approval(task, user, comment)

    def decided(self, task, user):
        from campaigns.services import approvals

        approvals.settle(task, user)

    def expired(self, task):
        from campaigns.services import approvals

        approvals.expired(task)

    def subject(self, task):
        from campaigns import definitions

        campaign = task.campaign
        if task.version is not None:
            return (
                task.version.definition,
                _test_run(campaign, task.version.definition),
                campaign,
                task.version,
            )
        definition = definitions.export(campaign)
        return definition, _test_run(campaign, definition), campaign, None


def _test_run(campaign, definition):
    from campaigns.policies import latest_test_run

    return latest_test_run(campaign, definition) or campaign.runs.filter(test=True).first()


def register(kind: TaskKind) -> TaskKind:
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> TaskKind:
    """The kind named ``name``; an unknown kind (a plugin removed) behaves as a plain task."""
    return KINDS.get(name) or TaskKind()


register(ApprovalActivityTask())
register(PublicationTask())
