"""``read_audience``: the members of a saved audience, by name. A rule audience is evaluated at the
run's start; a snapshot audience's members are copied."""

from audiences import populations
from audiences.models import AudienceKind, SavedAudience
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind


class ReadAudience(ActivityKind):
    type = "read_audience"
    label = "Read audience"
    group = "targeting"
    help_text = "Reads the members of a saved audience."
    inputs = "none"
    options = o.options(
        audience=o.string(description="The saved audience's name.", widget="audience"),
    )

    def outputs(self, options, inbound):
        found = SavedAudience.objects.filter(name=options.get("audience")).select_related("schema")
        audience = found.first() if isinstance(options.get("audience"), str) else None
        return {"out": Shape(audience.schema.name) if audience else None}

    def run(self, ctx):
        audience = SavedAudience.objects.select_related("schema").get(name=ctx.options["audience"])
        label = f"run {ctx.run.pk} {ctx.key}"
        if audience.kind == AudienceKind.SNAPSHOT and audience.population_id:
            return {"out": populations.copy_keys(population=audience.population, label=label)}
        population = populations.from_rule(
            schema=audience.schema, where=audience.where, now=ctx.now, label=label
        )
        return {"out": population}
