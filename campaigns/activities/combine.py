"""``combine``: union, intersection or exclusion (``primary`` minus the others) of the live inputs,
on the primary key, or on ``keys``: attributes (``email``) or columns every input has, so that
records with equal keys count as one (``audiences.population_ops.keyed``: a union keeps the
first record of each key, inputs in order with ``primary`` first; an intersection or exclusion
keeps records of the first input; a null key matches nothing). ``complement`` leaves by
``complement`` with the records of the inputs that are not in the result. Skipped inputs are
ignored (design 7). The result keeps keys only: added columns of the inputs do not survive a set
operation (``outputs`` says so)."""

from audiences import populations
from audiences.population_ops import keyed
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error

OPERATIONS = ("union", "intersection", "exclusion")


class Combine(ActivityKind):
    type = "combine"
    label = "Combine"
    group = "targeting"
    help_text = "Union, intersection or exclusion of the inbound populations."
    inputs = "many"
    ports = ("out", "complement")
    options = o.options(
        operation=o.string("union", "How the inbound populations are combined.", enum=OPERATIONS),
        primary=o.string(
            description="For an exclusion: the inbound activity the others are taken from.",
            nullable=True,
            widget="activity",
        ),
        keys=o.array(
            targeting.KEY_FIELD,
            None,
            'Fields or columns to reconcile records on, e.g. ["email"] or [{"field": "email", '
            '"transform": "lower"}] (default: the primary key).',
            nullable=True,
        ),
        complement=o.boolean(False, "Also emit, on 'complement', what is not in the result."),
    )

    def validate(self, options, check):
        errors = []
        if options.get("operation") == "exclusion" and not options.get("primary"):
            errors.append(error(check.at("primary"), "exclusion needs a primary input"))
        for source, shape in check.inbound.items():
            if shape is not None and shape.is_file:
                errors.append(
                    error(check.path, f"{source!r} brings file rows: reconcile them first")
                )
            else:
                for index, key in enumerate(options.get("keys") or []):
                    path = check.at(f"keys[{index}]")
                    if isinstance(key, dict):
                        key, path = key.get("field"), f"{path}.field"
                    errors += [
                        error(e["path"], f"input {source!r}: {e['message']}")
                        for e in targeting.column_errors(shape, key, path)
                    ]
        schemas = {shape.schema for shape in check.inbound.values() if shape is not None}
        if len(schemas) > 1:
            names = ", ".join(sorted(schemas))
            errors.append(error(check.path, f"the inputs are of different schemas ({names})"))
        return errors

    def outputs(self, options, inbound):
        shape = next((s for s in inbound.values() if s is not None), None)
        shape = shape.keys_only() if shape else None
        return {"out": shape, "complement": shape}

    def run(self, ctx):
        label = f"run {ctx.run.pk} {ctx.key}"
        inputs = list(ctx.inputs.values())
        primary = ctx.options.get("primary")
        if primary in ctx.inputs:
            inputs = [ctx.inputs[primary]] + [p for k, p in ctx.inputs.items() if k != primary]
        operation, keys = ctx.options["operation"], ctx.options.get("keys")
        if keys:
            result = keyed.combine_on(
                operation=operation, populations=inputs, keys=keys, label=label
            )
        else:
            result = populations.combine(operation=operation, populations=inputs, label=label)
        outputs = {"out": result, "complement": None}
        if ctx.options["complement"]:
            everything = populations.combine(operation="union", populations=inputs, label=label)
            outputs["complement"] = populations.combine(
                operation="exclusion", populations=[everything, result], label=label
            )
        return outputs
