"""``deduplication``: keeps ``keep`` records of each group of duplicates (records with equal
``fields``) and sends the others out by ``duplicates``; both keep the population's columns.

``fields`` are column references of the inbound population (``email``, ``store.city``,
``target.ALIAS``) or ``{"field", "transform": "lower"|"trim"|"digits"}``. A record with a null (or
empty text) in any field duplicates nothing and is kept. ``choose`` says which records of a group
are kept: ``random`` (seeded by the run and the activity: a retry replays identically),
``highest``/``lowest`` of a ``field`` (nulls last), ``non_empty`` (the most non-empty ``fields``),
``priority`` (``field`` in the order of ``values``); ties by primary key. See
``audiences.population_ops.dedup``.
"""

from audiences import rules
from audiences.population_ops import dedup
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error

CHOOSE = o.obj(
    {"by": "random"},
    "Which records of each group are kept.",
    required=("by",),
    by=o.string("random", "random, highest, lowest, non_empty or priority.", enum=dedup.CHOICES),
    field=o.string(description="highest, lowest, priority: the field.", widget="column"),
    fields=o.array(o.string(widget="column"), None, "non_empty: the fields.", nullable=True),
    values=o.array({}, None, "priority: the values, best first.", nullable=True),
)


def _value_errors(shape, choose, here):
    kind = targeting.column_type(shape, choose.get("field"), f"{here}.field")
    found = []
    for index, value in enumerate(choose.get("values") or []) if kind else ():
        try:
            rules.COERCE[kind](value)
        except (TypeError, ValueError, ArithmeticError):
            found.append(
                error(f"{here}.values[{index}]", f"expected a {kind} value, got {value!r}")
            )
    return found


class Deduplication(ActivityKind):
    type = "deduplication"
    label = "Deduplication"
    group = "targeting"
    help_text = (
        "Keeps one record (or a few) of each group of duplicates, e.g. one customer per email; "
        "the others leave by 'duplicates'."
    )
    ports = ("out", "duplicates")
    options = o.options(
        fields=o.array(
            targeting.KEY_FIELD, [], "The fields that identify duplicates.", min_items=1
        ),
        keep=o.integer(1, "How many records of each group are kept.", minimum=1),
        choose=CHOOSE,
    )

    def validate(self, options, check):
        _shape, errors = targeting.schema_input(check)
        choose = options.get("choose") or {}
        by, here = choose.get("by"), check.at("choose")
        if by in ("highest", "lowest", "priority") and not choose.get("field"):
            errors.append(error(f"{here}.field", f"{by} needs a field"))
        if by == "non_empty" and not choose.get("fields"):
            errors.append(error(f"{here}.fields", "non_empty needs fields"))
        if by == "priority" and not choose.get("values"):
            errors.append(error(f"{here}.values", "priority needs values"))
        if by == "priority":
            errors += _value_errors(check.input, choose, here)
        return errors

    def run(self, ctx):
        kept, duplicates = dedup.deduplicate(
            population=ctx.input,
            fields=ctx.options["fields"],
            keep=ctx.options["keep"],
            choose=ctx.options["choose"],
            seed=targeting.seed(ctx),
            label=targeting.label(ctx),
        )
        return {"out": kept, "duplicates": duplicates}
