"""``update_data``: inserts, updates, upserts or deletes records of ``schema`` from the inbound
population (or a loaded file's rows) and its columns, set-based through the record write path.

- ``mapping``: ``{attribute: column}`` (a column, or an attribute path, of the inbound rows);
  empty: the inbound columns named like attributes of ``schema``.
- Records are identified by primary key (mapped, or the population's own key when it is of
  ``schema``), or with ``key`` by reconciliation on those attributes (each mapped).
- Writes keep a newer stored ``version_field``; rows that cannot be written (no such record,
  several matches, bad values, links to missing records...) leave by ``rejects`` with the
  reason, the others by ``out``.
- One audit entry per run with the counts, never one per record. Skipped in test runs (design
  7): nothing is written, the state says so, ``out`` carries the input and ``rejects`` nothing.
See ``audiences.population_ops.writes``.
"""

from audiences.models import Schema
from audiences.population_ops import writes
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error
from config.access import SYSTEM
from config.audit import log_change


def _schema(options):
    name = options.get("schema")
    found = Schema.objects.filter(name=name).first() if isinstance(name, str) else None
    return found


class UpdateData(ActivityKind):
    type = "update_data"
    label = "Update data"
    group = "targeting"
    help_text = (
        "Inserts, updates, upserts or deletes records of a schema from the population and its "
        "columns (skipped in test runs); rows that cannot be written leave by 'rejects'."
    )
    ports = ("out", "rejects")
    options = o.options(
        schema=o.string(description="The schema whose records are written.", widget="schema"),
        operation=o.string("upsert", "What to do with each record.", enum=writes.OPERATIONS),
        key=o.array(
            o.string(widget="attribute"),
            None,
            "Attributes identifying the records (default: the primary key).",
            nullable=True,
        ),
        mapping={
            "type": "object",
            "default": {},
            "additionalProperties": {"type": "string"},
            "description": '{attribute: column}, e.g. {"loyalty_points": "target.points"}.',
        },
    )

    def validate(self, options, check):
        schema, shape = _schema(options), check.input
        if schema is None or shape is None:
            return []
        attributes = {a.name: a for a in schema.attributes.all()}
        mapping = options.get("mapping") or writes.default_mapping(shape.columns, attributes)
        errors = []
        for name, ref in mapping.items():
            here = check.at(f"mapping.{name}")
            if name not in attributes:
                errors.append(error(here, f"{schema.name} has no attribute {name!r}"))
            errors += targeting.column_errors(shape, ref, here)
        return errors + _identity_errors(options, check, schema, shape, mapping, attributes)

    def outputs(self, options, inbound):
        shape = next(iter(inbound.values()), None)
        if shape is None:
            return {"out": None, "rejects": None}
        reason = "reason" if "reason" not in shape.columns else "reject_reason"
        return {"out": shape, "rejects": Shape(shape.schema, {**shape.columns, reason: "string"})}

    def run(self, ctx):
        options, schema = ctx.options, Schema.objects.get(name=ctx.options["schema"])
        if ctx.test:
            ctx.state["note"] = (
                f"skipped (test run): {ctx.input.count} rows would be written to {schema.name} "
                f"({options['operation']})"
            )
            return {"out": ctx.input, "rejects": None}
        out, rejects, counts = writes.write(
            population=ctx.input,
            schema=schema,
            operation=options["operation"],
            key=options.get("key"),
            mapping=options.get("mapping"),
            label=targeting.label(ctx),
        )
        ctx.state.update(counts)
        log_change(
            user=getattr(ctx.run, "started_by", None) or SYSTEM,
            obj=schema,
            action="change",
            message=(
                f"update_data {options['operation']} by run {ctx.run.pk} ({ctx.key}): "
                f"{counts['written']} written, {counts['skipped_older']} older skipped, "
                f"{counts['rejected']} rejected"
            ),
            details={"run": ctx.run.pk, "activity": ctx.key, **counts},
        )
        return {"out": out, "rejects": rejects}


def _identity_errors(options, check, schema, shape, mapping, attributes):
    errors, key, operation = [], options.get("key") or [], options.get("operation")
    for index, name in enumerate(key):
        if name in attributes and name not in mapping:
            errors.append(error(check.at(f"key[{index}]"), f"map {name!r} to a column"))
    same = shape.schema == schema.name
    pk_known = schema.primary_key in mapping or same
    if not key and not pk_known:
        message = f"map the primary key {schema.primary_key!r}, or give key attributes"
        errors.append(error(check.at("mapping"), message))
    if operation in ("insert", "upsert") and key and schema.primary_key not in mapping and not same:
        message = f"map the primary key {schema.primary_key!r} to create records"
        errors.append(error(check.at("mapping"), message))
    if operation in ("insert", "upsert"):
        for name, attribute in attributes.items():
            if attribute.required and name not in mapping and name != schema.primary_key:
                errors.append(error(check.at("mapping"), f"map the required attribute {name!r}"))
    identifying = {schema.primary_key, *key}
    if operation == "update" and not set(mapping) - identifying:
        message = "nothing to write: map an attribute besides those identifying the records"
        errors.append(error(check.at("mapping"), message))
    if operation == "delete" and not mapping and not key and not same:
        errors.append(error(check.at("mapping"), "nothing identifies the records to delete"))
    return errors
