"""``enrichment``: adds typed columns to the inbound population; they ride along into later
activities (rules read them as ``target.<alias>``, personalization as ``target.<alias>``).

Each of ``columns`` has an ``alias`` and one of:
- ``field``: an attribute along many-to-one links (``store.city``);
- ``aggregate`` (count, sum, avg, min, max) over a one-to-many ``link``, of ``field``, with a
  rule filter ``where`` on the linked schema;
- ``collect``: N linked records (``link``) in ``order_by`` order, as the columns
  ``<alias><n>_<field>`` for each of ``fields`` (``last1_amount``...), with ``where``;
- ``file_column``: a column of the loaded file named by ``file`` (a ``load_file`` activity
  upstream of this one), from the line whose ``join.column`` equals ``join.attribute``.
Each column's type follows from what it reads; ``outputs`` gives them. See
``audiences.population_ops.enrich``.
"""

from audiences import rules
from audiences.identifiers import identifier_error
from audiences.models import AttributeType
from audiences.population_ops import enrich, reconcile
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error
from config.errors import ValidationFailed

COLUMN = o.obj(
    description="One column: alias plus field, aggregate, collect or file_column.",
    required=("alias",),
    alias=o.string(description="The column's name (target.<alias>).", widget="identifier"),
    field=o.string(description="field: an attribute path; aggregate: the linked field."),
    aggregate=o.string(description="count, sum, avg, min or max.", enum=enrich.AGGREGATES),
    link=o.string(description="aggregate, collect: a one-to-many link."),
    where={
        "type": "object",
        "description": "aggregate, collect: a rule on the linked records.",
        "x-widget": "rule",
        "x-rule-schema": "link",
    },
    collect=o.integer(None, "collect: how many linked records.", minimum=1, maximum=20),
    fields=o.array(o.string(), None, "collect: the linked fields taken.", nullable=True),
    order_by=o.string(description='collect: "field" or "-field" (descending).'),
    file_column=o.string(description="file: the loaded file's column taken."),
    type=o.string(
        "string",
        "file: the column's type, as the load_file declares it.",
        enum=AttributeType.values,
    ),
    join=o.obj(
        description="file: the file's column equal to the record's attribute.",
        required=("column", "attribute"),
        column=o.string(description="The file's column."),
        attribute=o.string(
            description="An attribute path of the inbound records.", widget="column"
        ),
    ),
)
SOURCES = ("field", "aggregate", "collect", "file_column")


def _file_shape(options, check):
    name = options.get("file")
    if not name:
        return None, []
    found = check.upstream.get(name)
    if found is None or found["type"] != "load_file":
        message = f"{name!r} is not a load_file activity upstream of this one"
        return None, [error(check.at("file"), message)]
    return found["ports"].get("out"), []


def _where_errors(schema, spec, here):
    if spec.get("where") is None or "link" not in spec:
        return []
    meta = rules.metadata().schemas.get(schema, {})
    child = meta.get("reverse", {}).get(spec["link"], (None,))[0]
    return rules.check(schema=child, where=spec["where"], path=f"{here}.where") if child else []


def _join_errors(shape, file_shape, spec, here):
    join = spec.get("join") or {}
    if "file_column" not in spec or file_shape is None:
        return []
    declared, found = spec.get("type") or "string", file_shape.columns.get(spec["file_column"])
    if found is not None and found != declared:
        message = f"the file's column {spec['file_column']!r} is {found}, not {declared}"
        return [error(f"{here}.type", message)]
    if join.get("column") not in file_shape.columns:
        return [error(f"{here}.join.column", f"the file has no column {join.get('column')!r}")]
    kind = targeting.column_type(shape, join.get("attribute"), f"{here}.join.attribute")
    problem = reconcile.type_error(file_shape.columns[join["column"]], kind) if kind else None
    return [error(f"{here}.join.column", problem)] if problem else []


def _column_errors(shape, file_shape, spec, here, taken):
    if len(_sources(spec)) != 1:
        return [error(here, "give one of field, aggregate, collect or file_column")], {}
    if file_shape is False and "file_column" in spec:
        return [], {}  # the activity's ``file`` is wrong, and said so
    try:
        added = enrich.column_types(shape.schema, spec, file_shape, here)
    except ValidationFailed as exc:
        return exc.errors, {}
    errors = _where_errors(shape.schema, spec, here) + _join_errors(shape, file_shape, spec, here)
    for name in added:
        if name in taken and identifier_error(spec.get("alias")) is None:
            errors.append(error(f"{here}.alias", f"the population already has a column {name!r}"))
    return errors, added


def _sources(spec):
    found = [s for s in SOURCES if spec.get(s) is not None]
    return ["aggregate"] if "aggregate" in found else found  # an aggregate's field is its own


class Enrichment(ActivityKind):
    type = "enrichment"
    label = "Enrichment"
    group = "targeting"
    help_text = (
        "Adds columns to the population: linked attributes, aggregates and the latest lines of "
        "linked records, or columns of a loaded file; later rules and messages read them."
    )
    options = o.options(
        columns=o.array(COLUMN, [], "The columns to add.", min_items=1),
        file=o.string(
            description="For file columns: the load_file activity (upstream) whose rows are read.",
            nullable=True,
            widget="activity",
        ),
    )

    def validate(self, options, check):
        shape, errors = targeting.schema_input(check)
        file_shape, found = _file_shape(options, check)
        errors += found
        file_shape = False if found else file_shape
        if shape is None:
            return errors
        taken = dict(shape.columns)
        for index, spec in enumerate(options.get("columns") or []):
            found, added = _column_errors(
                shape, file_shape, spec, check.at(f"columns[{index}]"), taken
            )
            errors += found
            taken.update(added)
        return errors

    def outputs(self, options, inbound):
        shape = next(iter(inbound.values()), None)
        if shape is None or shape.is_file:
            return {"out": None}
        added = {}
        for spec in options.get("columns") or []:
            try:
                added.update(enrich.column_types(shape.schema, spec, _declared_file(spec)))
            except (ValidationFailed, KeyError, TypeError):
                continue
        return {"out": shape.plus(added)}

    def run(self, ctx):
        file_rows = targeting.upstream_population(ctx, ctx.options.get("file"))
        added = enrich.enrich(
            population=ctx.input,
            columns=ctx.options["columns"],
            file_rows=file_rows,
            variables=ctx.variables,
            now=ctx.now,
            label=targeting.label(ctx),
        )
        return {"out": added}


def _declared_file(spec):
    """For ``outputs`` (no graph at hand): the file column as the spec declares it."""
    if "file_column" not in spec:
        return None
    return Shape.file({spec["file_column"]: spec.get("type") or "string"})
