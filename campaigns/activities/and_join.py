"""``and_join``: waits for all its inputs (arrived or skipped) and passes on the ``primary`` one
(default: the first live input). The engine skips it when all inputs, or its primary, are skipped."""

from campaigns.activities.base import ActivityKind
from campaigns.activities.registry import register


@register
class AndJoin(ActivityKind):
    type = "and_join"
    label = "And-join"
    help_text = "Waits for every inbound branch, then continues with the primary one."
    multi_input = True
    defaults = {"primary": None}
    option_types = {"primary": "string"}

    def run(self, ctx):
        primary = ctx.options.get("primary")
        population = ctx.inputs.get(primary) if primary else ctx.input
        return {"out": population}
