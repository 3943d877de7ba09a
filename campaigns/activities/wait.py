"""``wait``: holds the population for a ``duration`` (from when it arrived) or ``until`` a date-time,
then passes it on. The due time is kept in PostgreSQL (``ActivityRun.due_at``); the engine parks the
activity run and a delayed job (or the reconciler) wakes it. Test mode does not wait."""

import datetime

from django.utils import timezone

from audiences import durations
from campaigns.activities.base import ActivityKind, Waiting, error
from campaigns.activities.registry import register


def _parse_until(text):
    value = datetime.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@register
class Wait(ActivityKind):
    type = "wait"
    label = "Wait"
    help_text = "Holds the population for a duration, or until a date and time."
    defaults = {"duration": None, "until": None}
    option_types = {"duration": "string", "until": "string"}

    def validate_options(self, options, path, var_types=None):
        duration, until = options.get("duration"), options.get("until")
        if bool(duration) == bool(until):
            return [error(path, "give either duration or until")]
        if duration:
            try:
                durations.parse(duration, path=f"{path}.duration")
            except durations.DurationError as exc:
                return [error(exc.path, exc.message)]
            return []
        try:
            _parse_until(until)
        except ValueError:
            return [error(f"{path}.until", "must be an ISO 8601 date-time")]
        return []

    def run(self, ctx):
        if ctx.test:
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
