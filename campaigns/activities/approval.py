"""``approval``: creates a human task for ``group`` with ``message`` and waits until it is decided
(``approved`` / ``rejected`` ports) or expires after ``expires_in`` (then leaves by ``on_expiry``;
the tick expires it and wakes this activity, ``campaigns.services.tasks.expire_due``, and so does
this activity's own wake-up at the due time, whichever comes first).
The port taken carries the inbound population; the others carry nothing. Test mode creates no task
and takes ``approved`` (design 7), saying so in the activity run's state (``note``, ``test_effect``:
``auto_approved``) for the test-run summary."""

from django.contrib.auth.models import Group
from django.utils import timezone

from audiences import durations
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, Waiting

PORTS = ("approved", "rejected", "expired")


class Approval(ActivityKind):
    type = "approval"
    label = "Approval"
    help_text = "Waits for a member of a group to approve or reject."
    ports = PORTS
    options = o.options(
        group=o.string(description="The group whose members decide.", widget="group"),
        message=o.string("", "What the approver is asked.", widget="textarea"),
        expires_in=o.string("1d", "How long the approver has to decide.", widget="duration"),
        on_expiry=o.string("expired", "The port taken when nobody decided in time.", enum=PORTS),
    )

    def run(self, ctx):
        from campaigns.models import HumanTask, HumanTaskStatus
        from campaigns.services import tasks

        ports = dict.fromkeys(PORTS)
        if ctx.test:
            ctx.state["note"] = "auto-approved (test run): no task was created"
            ctx.state["test_effect"] = "auto_approved"
            ports["approved"] = ctx.input
            return ports
        task = HumanTask.objects.filter(activity_run=ctx.activity_run).first()
        if task is None:
            task = tasks.create_task(
                kind="approval",
                title=f"Approve {ctx.key} of {ctx.run.campaign}",
                message=ctx.options["message"],
                group=Group.objects.filter(name=ctx.options["group"]).first(),
                due_at=timezone.now() + durations.parse(ctx.options["expires_in"]),
                run=ctx.run,
                activity_run=ctx.activity_run,
            )
        if task.status == HumanTaskStatus.DONE:
            ports[task.decision] = ctx.input
            return ports
        if task.status in (HumanTaskStatus.NEW, HumanTaskStatus.ASSIGNED):
            if timezone.now() < task.due_at:
                return Waiting(task.due_at)
            tasks.expire_task(task)
        ports[ctx.options["on_expiry"]] = ctx.input
        return ports
