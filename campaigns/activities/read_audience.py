"""``read_audience``: the members of a saved audience, by name. A rule audience is evaluated at the
run's start; a snapshot audience's members are copied."""

from audiences import populations
from audiences.models import AudienceKind, SavedAudience
from campaigns.activities.base import ActivityKind, error
from campaigns.activities.registry import register


@register
class ReadAudience(ActivityKind):
    type = "read_audience"
    label = "Read audience"
    help_text = "Reads the members of a saved audience."
    entry = True
    defaults = {"audience": None}
    option_types = {"audience": "string"}

    def validate_options(self, options, path, var_types=None):
        name = options.get("audience")
        if not name:
            return [error(f"{path}.audience", "an audience name is required")]
        if not SavedAudience.objects.filter(name=name).exists():
            return [error(f"{path}.audience", f"no saved audience named {name!r}")]
        return []

    def run(self, ctx):
        audience = SavedAudience.objects.select_related("schema").get(name=ctx.options["audience"])
        label = f"run {ctx.run.pk} {ctx.key}"
        if audience.kind == AudienceKind.SNAPSHOT and audience.population_id:
            return {"out": populations.copy_keys(population=audience.population, label=label)}
        population = populations.from_rule(
            schema=audience.schema, where=audience.where, now=ctx.now, label=label
        )
        return {"out": population}
