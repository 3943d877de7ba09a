"""``reconciliation``: maps a loaded file's rows (or an inbound population) onto the records of
``schema`` by attribute ``pairs`` (``[{"column", "attribute"}]``, every pair must match),
giving a population of that schema that keeps the inbound columns (the first matching line, by
line number, when several match one record).

Rows that match no record, or several, are *unreconciled*. A population of ``schema`` can only
hold its records' keys, so they cannot stay on ``out``: with ``keep_unreconciled`` (the default)
they are kept on ``rejects``, with their columns and a ``reason``, for the campaign to use (for
instance to insert them with ``update_data``); without it they are dropped (counted in the
activity's state) and ``rejects`` carries nothing. See ``audiences.population_ops.reconcile``.
"""

from audiences.models import Schema
from audiences.population_ops import reconcile, tables
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error

PAIR = o.obj(
    description="A column of the inbound rows and the attribute it must equal.",
    required=("column", "attribute"),
    column=o.string(description="A column (or field) of the inbound rows.", widget="column"),
    attribute=o.string(description="An attribute of the schema.", widget="attribute"),
)


def _attribute_types(name):
    schema = Schema.objects.filter(name=name).first() if isinstance(name, str) else None
    return {a.name: a.type for a in schema.attributes.all()} if schema else None


class Reconciliation(ActivityKind):
    type = "reconciliation"
    label = "Reconciliation"
    group = "targeting"
    help_text = (
        "Finds the records of a schema that a file's lines (or a population) name, by pairs of "
        "column and attribute; unreconciled lines leave by 'rejects' with the reason."
    )
    ports = ("out", "rejects")
    options = o.options(
        schema=o.string(description="The schema to reconcile with.", widget="schema"),
        pairs=o.array(PAIR, [], "Column and attribute pairs; all must match.", min_items=1),
        keep_unreconciled=o.boolean(
            True, "Keep the unreconciled rows on 'rejects' (else they are dropped)."
        ),
    )

    def validate(self, options, check):
        attributes, errors = _attribute_types(options.get("schema")), []
        for index, pair in enumerate(options.get("pairs") or []):
            here = check.at(f"pairs[{index}]")
            kind = targeting.column_type(check.input, pair.get("column"), f"{here}.column")
            wanted = (attributes or {}).get(pair.get("attribute"))
            problem = reconcile.type_error(kind, wanted) if kind and wanted else None
            if problem:
                errors.append(error(f"{here}.column", problem))
        return errors

    def outputs(self, options, inbound):
        shape = next(iter(inbound.values()), None)
        name = options.get("schema") if _attribute_types(options.get("schema")) else None
        if shape is None:
            return {"out": Shape(name) if name else None, "rejects": None}
        reason = "reason" if "reason" not in shape.columns else "reject_reason"
        rejects = Shape(shape.schema, {**shape.columns, reason: "string"})
        return {"out": Shape(name, dict(shape.columns)) if name else None, "rejects": rejects}

    def run(self, ctx):
        options = ctx.options
        out, rejects = reconcile.reconcile(
            population=ctx.input,
            schema=Schema.objects.get(name=options["schema"]),
            pairs=options["pairs"],
            label=targeting.label(ctx),
        )
        ctx.state["unreconciled"] = rejects.count
        if not options["keep_unreconciled"]:
            tables.drop(rejects)
            rejects = None
        return {"out": out, "rejects": rejects}
