"""``wait``: holds the population for a ``duration`` (from when it arrived) or ``until`` a date-time,
then passes it on. The due time is kept in PostgreSQL (``ActivityRun.due_at``); the engine parks the
activity run and a delayed job (or the reconciler) wakes it. Test mode does not wait, and says so
in the activity run's state (``note``, ``test_effect``: ``wait_skipped``)."""

import datetime

from django.utils import timezone

from audiences import durations
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, Waiting, error


def _parse_until(text):
    value = datetime.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class Wait(ActivityKind):
    type = "wait"
    label = "Wait"
    help_text = "Holds the population for a duration, or until a date and time."
    options = o.options(
        duration=o.string(
            description='How long to wait from when the population arrives, e.g. "2d".',
            nullable=True,
            widget="duration",
        ),
        until=o.string(
            description="Or a date and time to wait until (ISO 8601).",
            nullable=True,
            format="date-time",
        ),
    )

    def validate(self, options, check):
        duration, until = options.get("duration"), options.get("until")
        if bool(duration) == bool(until):
            return [error(check.path, "give either duration or until")]
        if until:
            try:
                _parse_until(until)
            except (TypeError, ValueError):
                return [error(check.at("until"), "must be an ISO 8601 date-time")]
        return []

    def run(self, ctx):
        if ctx.test:
            waited = ctx.options.get("duration") or f"until {ctx.options.get('until')}"
            ctx.state["note"] = f"not waited (test run; a live run waits {waited})"
            ctx.state["test_effect"] = "wait_skipped"
            return {"out": ctx.input}
        if "due_at" not in ctx.state:
            if ctx.options.get("duration"):
                due = timezone.now() + durations.parse(ctx.options["duration"])
            else:
                due = _parse_until(ctx.options["until"])
            ctx.state["due_at"] = due.isoformat()
        due = datetime.datetime.fromisoformat(ctx.state["due_at"])
        if timezone.now() < due:
            return Waiting(due)
        return {"out": ctx.input}
