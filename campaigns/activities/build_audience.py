"""``build_audience``: the records of ``schema`` matching ``where`` (design 5.3), evaluated at the
run's start with the run's variables. With ``emit_empty`` an empty result leaves by ``empty`` and
``out`` carries nothing (skipping what follows it); otherwise ``out`` carries it, even empty."""

from audiences import populations
from audiences.models import Schema
from campaigns.activities.base import ActivityKind, error
from campaigns.activities.registry import register


def rule_errors(schema, where, path, var_types):
    from audiences import rules

    if not schema:
        return [error(f"{path}.schema", "a schema is required")]
    if not Schema.objects.filter(name=schema).exists():
        return [error(f"{path}.schema", f"no schema named {schema!r}")]
    return rules.check(schema=schema, where=where, var_types=var_types, path=f"{path}.where")


@register
class BuildAudience(ActivityKind):
    type = "build_audience"
    label = "Build audience"
    help_text = "Selects the records of a schema that match a rule."
    ports = ("out", "empty")
    entry = True
    defaults = {"schema": None, "where": {"and": []}, "emit_empty": False}
    option_types = {"schema": "string", "where": "object", "emit_empty": "boolean"}

    def validate_options(self, options, path, var_types=None):
        return rule_errors(options.get("schema"), options.get("where"), path, var_types or {})

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
