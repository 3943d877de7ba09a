"""``end``: the end of a branch. With ``signal`` (``{"campaign": NAME, "variables": {...}}``) a live
run triggers that signal campaign; a test run records the signal as skipped (design 7)."""

from campaigns.activities.base import ActivityKind, error
from campaigns.activities.registry import register


@register
class End(ActivityKind):
    type = "end"
    label = "End"
    help_text = "Ends a branch; may trigger a signal campaign."
    ports = ()
    defaults = {"signal": None}
    option_types = {"signal": "object"}

    def validate_options(self, options, path, var_types=None):
        signal = options.get("signal")
        if signal is None:
            return []
        if not isinstance(signal.get("campaign"), str) or not signal.get("campaign"):
            return [error(f"{path}.signal.campaign", "a campaign name is required")]
        if not isinstance(signal.get("variables", {}), dict):
            return [error(f"{path}.signal.variables", "must be an object")]
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

        target = Campaign.objects.get(name=signal["campaign"])
        run = services.trigger(
            campaign=target,
            variables=signal.get("variables") or {},
            user=None,
            source=f"end {ctx.key} of run {ctx.run.pk}",
        )
        ctx.state["signal"] = f"run {run.pk}"
        return {}
