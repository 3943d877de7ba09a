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


class Scorer(ActivityKind):
    """Adds an integer column ``score`` (its shape says so); a kind that adds columns."""

    type = "scorer"
    help_text = "Adds a score column."
    options = o.options(alias=o.string("score", "The column's name."))

    def outputs(self, options, inbound):
        shape = next(iter(inbound.values()), None)
        return {"out": shape.plus({options["alias"]: "integer"}) if shape else None}

    def run(self, ctx):
        return {"out": ctx.input}


class Keep(ActivityKind):
    """Keeps the inbound records matching a rule on the inbound schema (``target.ALIAS`` too)."""

    type = "keep"
    help_text = "Keeps the records matching a rule."
    options = o.options(where=o.rule("The rule on the inbound records.", of="inbound"))

    def run(self, ctx):
        from audiences import populations

        kept = populations.subset(population=ctx.input, where=ctx.options["where"], now=ctx.now)
        return {"out": kept}


class Notice(ActivityKind):
    """A channel activity that sends nothing: it passes its input on. It stands for the email,
    SMS and push kinds (being built) where approvals look at channel activities: a marketing
    ``category``, content options marked as templates and long texts."""

    type = "notice"
    label = "Notice"
    group = "channels"
    help_text = "A test channel: passes its input on, sends nothing."
    options = o.options(
        subject=o.string("", "The subject.", widget="template"),
        text=o.string("", "The text.", widget="textarea"),
        category=o.string(
            "marketing", "marketing or transactional.", enum=["marketing", "transactional"]
        ),
    )

    def run(self, ctx):
        return {"out": ctx.input}
