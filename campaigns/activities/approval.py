"""``approval``: creates a human task for ``group`` with ``message`` and waits until it is decided
(``approved`` / ``rejected`` ports) or expires after ``expires_in`` (then leaves by ``on_expiry``).
The port taken carries the inbound population; the others carry nothing. Test mode creates no task
and takes ``approved`` (design 7)."""

from django.contrib.auth.models import Group
from django.utils import timezone

from audiences import durations
from campaigns.activities.base import ActivityKind, Waiting, error
from campaigns.activities.registry import register

PORTS = ("approved", "rejected", "expired")


@register
class Approval(ActivityKind):
    type = "approval"
    label = "Approval"
    help_text = "Waits for a member of a group to approve or reject."
    ports = PORTS
    defaults = {"group": None, "message": "", "expires_in": "1d", "on_expiry": "expired"}
    option_types = {
        "group": "string",
        "message": "string",
        "expires_in": "string",
        "on_expiry": "string",
    }

    def validate_options(self, options, path, var_types=None):
        errors = []
        group = options.get("group")
        if not group:
            errors.append(error(f"{path}.group", "a group is required"))
        elif not Group.objects.filter(name=group).exists():
            errors.append(error(f"{path}.group", f"no group named {group!r}"))
        try:
            durations.parse(options.get("expires_in"), path=f"{path}.expires_in")
        except durations.DurationError as exc:
            errors.append(error(exc.path, exc.message))
        if options.get("on_expiry") not in PORTS:
            errors.append(error(f"{path}.on_expiry", f"must be one of {', '.join(PORTS)}"))
        return errors

    def run(self, ctx):
        from campaigns.models import HumanTask, HumanTaskStatus

        ports = dict.fromkeys(PORTS)
        if ctx.test:
            ports["approved"] = ctx.input
            return ports
        task = HumanTask.objects.filter(activity_run=ctx.activity_run).first()
        if task is None:
            task = HumanTask.objects.create(
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
            task.status = HumanTaskStatus.EXPIRED
            task.save(update_fields=["status"])
        ports[ctx.options["on_expiry"]] = ctx.input
        return ports
