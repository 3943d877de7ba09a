"""Test-only activity kinds: a plugin module, registered in the test process (conftest) and in the
worker processes the tests start (through CAMPAIGN_ACTIVITY_MODULES), as a real plugin is."""

import time

from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind


class Slow(ActivityKind):
    """Passes its input on after sleeping ``seconds``: a step that reliably takes a while."""

    type = "slow"
    help_text = "Sleeps, then passes its input on."
    options = o.options(seconds=o.integer(1, "How long to sleep.", minimum=0))

    def run(self, ctx):
        time.sleep(ctx.options["seconds"])
        return {"out": ctx.input}


class Boom(ActivityKind):
    """Always fails."""

    type = "boom"
    help_text = "Always fails."

    def run(self, ctx):
        raise RuntimeError("boom")


class Nothing(ActivityKind):
    """An entry activity that produces nothing (its ``out`` carries nothing)."""

    type = "nothing"
    help_text = "An entry whose out carries nothing."
    inputs = "none"

    def run(self, ctx):
        return {"out": None}
