"""``end``: the end of a branch. With ``signal`` (``{"campaign": NAME, "variables": {...}}``) a live
run triggers that signal campaign; a test run records the signal as skipped (design 7)."""

from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, error

SIGNAL = o.obj(
    None,
    "Start a run of a live signal campaign when the branch ends (skipped in test runs).",
    nullable=True,
    required=("campaign",),
    campaign=o.string(description="The signal campaign's name.", min_length=1),
    variables={"type": "object", "default": {}, "description": "The variables of its run."},
)


class End(ActivityKind):
    type = "end"
    label = "End"
    help_text = "Ends a branch; may trigger a signal campaign."
    ports = ()
    options = o.options(signal=SIGNAL)

    def validate(self, options, check):
        from campaigns.models import Campaign

        name = (options.get("signal") or {}).get("campaign")
        if isinstance(name, str) and name and not Campaign.objects.filter(name=name).exists():
            return [error(check.at("signal.campaign"), f"no campaign named {name!r}")]
        return []

    def run(self, ctx):
        signal = ctx.options.get("signal")
        if not signal:
            return {}
        if ctx.test:
            ctx.state["signal"] = "skipped (test run)"
            return {}
        from campaigns import services
        from campaigns.models import Campaign
        from config.access import SYSTEM

        target = Campaign.objects.get(name=signal["campaign"])
        run = services.trigger(
            campaign=target,
            variables=signal.get("variables") or {},
            user=SYSTEM,
            source=f"end {ctx.key} of run {ctx.run.pk}",
        )
        ctx.state["signal"] = f"run {run.pk}"
        return {}
