"""``split``: ordered subsets of the inbound population, each leaving by its ``name``.

A subset has a ``where`` (a rule on the inbound schema, ``target.ALIAS`` included) and/or a
``limit`` (``{"count": N}`` or ``{"percent": P}``, with ``order_by``: ``"field"``, ``"-field"`` or
``"random"``, seeded by the run and the activity). Subsets are exclusive by default: a record goes
to the first subset it matches (and fits in); ``overlap`` lets a record join several.
``complement`` adds the port ``complement`` with the records of no subset. With ``skip_empty`` an
empty subset (or complement) carries nothing, which skips what depends only on it (design 7);
otherwise it carries an empty population. See ``audiences.population_ops.split``.
"""

from audiences.identifiers import identifier_error
from audiences.population_ops import split as splitting
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error

LIMIT = o.obj(
    None,
    "At most this many records: a count or a percentage of those the subset could take.",
    nullable=True,
    count=o.integer(None, "At most this many records.", nullable=True, minimum=0),
    percent=o.number(
        None, "At most this percentage (rounded down).", nullable=True, minimum=0, maximum=100
    ),
    order_by=o.string("random", 'Which first: "field", "-field" (descending) or "random".'),
)
SUBSET = o.obj(
    description="One subset.",
    required=("name",),
    name=o.string(description="The subset's port name.", widget="identifier"),
    where=o.rule("The rule its records match; empty: every record.", of="inbound"),
    limit=LIMIT,
)


class Split(ActivityKind):
    type = "split"
    label = "Split"
    group = "targeting"
    help_text = (
        "Splits the population into ordered subsets by rules and limits (a count or a "
        "percentage, by a field or at random); each subset leaves by its own port."
    )
    options = o.options(
        subsets=o.array(SUBSET, [], "The subsets, in order.", min_items=1),
        complement=o.boolean(False, "Also emit, on 'complement', the records of no subset."),
        overlap=o.boolean(False, "Let a record join several subsets (else the first it fits)."),
        skip_empty=o.boolean(False, "An empty subset carries nothing: what follows it is skipped."),
    )

    def ports_for(self, options):
        names = [s.get("name") for s in options.get("subsets") or [] if isinstance(s, dict)]
        ports = tuple(n for n in names if isinstance(n, str) and n)
        return ports + (("complement",) if options.get("complement") else ())

    def validate(self, options, check):
        _shape, errors = targeting.schema_input(check)
        seen = set()
        for index, subset in enumerate(options.get("subsets") or []):
            here = check.at(f"subsets[{index}]")
            name = subset.get("name")
            if identifier_error(name) is None and (name in seen or name == "complement"):
                errors.append(error(f"{here}.name", f"{name!r} is already a port of this split"))
            seen.add(name)
            errors += _limit_errors(subset.get("limit"), f"{here}.limit", check)
        return errors

    def run(self, ctx):
        options = ctx.options
        found, rest = splitting.split(
            population=ctx.input,
            subsets=options["subsets"],
            complement=options["complement"],
            overlap=options["overlap"],
            variables=ctx.variables,
            now=ctx.now,
            seed=targeting.seed(ctx),
            label=targeting.label(ctx),
        )
        if options["complement"]:
            found["complement"] = rest
        if options["skip_empty"]:
            found = {port: (p if p.count else None) for port, p in found.items()}
        return found


def _limit_errors(limit, here, check):
    if not limit:
        return []
    has_count, has_percent = limit.get("count") is not None, limit.get("percent") is not None
    if has_count == has_percent:
        return [error(here, "give either count or percent")]
    order_by = limit.get("order_by")
    if order_by in (None, "random"):
        return []
    ref = order_by[1:] if isinstance(order_by, str) and order_by.startswith("-") else order_by
    return targeting.column_errors(check.input, ref, f"{here}.order_by")
