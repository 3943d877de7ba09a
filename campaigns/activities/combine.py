"""``combine``: union, intersection or exclusion (``primary`` minus the others) of the live inputs,
on the primary key. ``complement`` leaves by ``complement`` with the records of the inputs that
are not in the result. Skipped inputs are ignored (design 7)."""

from audiences import populations
from campaigns.activities.base import ActivityKind, error
from campaigns.activities.registry import register

OPERATIONS = ("union", "intersection", "exclusion")


@register
class Combine(ActivityKind):
    type = "combine"
    label = "Combine"
    help_text = "Union, intersection or exclusion of the inbound populations."
    ports = ("out", "complement")
    multi_input = True
    defaults = {"operation": "union", "primary": None, "keys": None, "complement": False}
    option_types = {
        "operation": "string",
        "primary": "string",
        "keys": "array",
        "complement": "boolean",
    }

    def validate_options(self, options, path, var_types=None):
        errors = []
        operation = options.get("operation")
        if operation not in OPERATIONS:
            errors.append(error(f"{path}.operation", f"must be one of {', '.join(OPERATIONS)}"))
        if operation == "exclusion" and not options.get("primary"):
            errors.append(error(f"{path}.primary", "exclusion needs a primary input"))
        if options.get("keys"):
            errors.append(error(f"{path}.keys", "only the primary key is supported"))
        return errors

    def run(self, ctx):
        label = f"run {ctx.run.pk} {ctx.key}"
        inputs = list(ctx.inputs.values())
        primary = ctx.options.get("primary")
        if primary in ctx.inputs:
            inputs = [ctx.inputs[primary]] + [p for k, p in ctx.inputs.items() if k != primary]
        operation = ctx.options["operation"]
        result = populations.combine(operation=operation, populations=inputs, label=label)
        outputs = {"out": result, "complement": None}
        if ctx.options["complement"]:
            everything = populations.combine(operation="union", populations=inputs, label=label)
            outputs["complement"] = populations.combine(
                operation="exclusion", populations=[everything, result], label=label
            )
        return outputs
