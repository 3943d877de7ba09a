"""Test-only activity kinds, registered in the test process and (through
CAMPAIGN_ACTIVITY_MODULES) in the worker processes the tests start."""

import time

from campaigns.activities.base import ActivityKind
from campaigns.activities.registry import register


@register
class Slow(ActivityKind):
    """Passes its input on after sleeping ``seconds``: a step that reliably takes a while."""

    type = "slow"
    defaults = {"seconds": 1}
    option_types = {"seconds": "integer"}

    def run(self, ctx):
        time.sleep(ctx.options["seconds"])
        return {"out": ctx.input}


@register
class Boom(ActivityKind):
    """Always fails."""

    type = "boom"
    defaults = {}

    def run(self, ctx):
        raise RuntimeError("boom")


@register
class Nothing(ActivityKind):
    """An entry activity that produces nothing (its ``out`` carries nothing)."""

    type = "nothing"
    entry = True
    defaults = {}

    def run(self, ctx):
        return {"out": None}
