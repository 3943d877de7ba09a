"""``and_join``: waits for all its inputs (arrived or skipped) and passes on the ``primary`` one
(default: the first live input). The engine skips it when all inputs, or its primary, are skipped."""

from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind


class AndJoin(ActivityKind):
    type = "and_join"
    label = "And-join"
    help_text = "Waits for every inbound branch, then continues with the primary one."
    inputs = "many"
    options = o.options(
        primary=o.string(
            description="The inbound activity whose population continues (default: the first).",
            nullable=True,
            widget="activity",
        ),
    )

    def outputs(self, options, inbound):
        primary = options.get("primary")
        shape = inbound.get(primary) if primary else next(iter(inbound.values()), None)
        return {"out": shape}

    def run(self, ctx):
        primary = ctx.options.get("primary")
        population = ctx.inputs.get(primary) if primary else ctx.input
        return {"out": population}
