"""``build_audience``: the records of ``schema`` matching ``where`` (design 5.3), evaluated at the
run's start with the run's variables. With ``emit_empty`` an empty result leaves by ``empty`` and
``out`` carries nothing (skipping what follows it); otherwise ``out`` carries it, even empty."""

from audiences import populations
from audiences.models import Schema
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind


class BuildAudience(ActivityKind):
    type = "build_audience"
    label = "Build audience"
    group = "targeting"
    help_text = "Selects the records of a schema that match a rule."
    inputs = "none"
    ports = ("out", "empty")
    options = o.options(
        schema=o.string(description="The schema to select records from.", widget="schema"),
        where=o.rule("The rule the records must match; an empty rule takes them all."),
        emit_empty=o.boolean(
            False, "When nothing matches, leave by 'empty' instead of 'out' (which is skipped)."
        ),
    )

    def outputs(self, options, inbound):
        shape = Shape(options["schema"]) if options.get("schema") else None
        return {"out": shape, "empty": shape}

    def run(self, ctx):
        population = populations.from_rule(
            schema=Schema.objects.get(name=ctx.options["schema"]),
            where=ctx.options["where"],
            variables=ctx.variables,
            now=ctx.now,
            label=f"run {ctx.run.pk} {ctx.key}",
        )
        if ctx.options["emit_empty"] and population.count == 0:
            return {"out": None, "empty": population}
        return {"out": population, "empty": None}
