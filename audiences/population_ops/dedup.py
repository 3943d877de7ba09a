"""Deduplication of a population (design 5.4 ``deduplication``).

``deduplicate(*, population, fields, keep=1, choose=None, seed="", label="") -> (kept, duplicates)``

- ``fields``: references (``paths``) or ``{"field", "transform": "lower"|"trim"|"digits"}``; records
  with equal values of all fields are duplicates. Text values are compared as given (after the
  transform) and an empty text counts as null; a record with a null in any field is a duplicate of
  nothing (a null key never matches another null): it is always kept.
- ``keep``: how many records of each group are kept; the others leave as ``duplicates``.
- ``choose``: which ones are kept first: ``{"by": "random"}`` (default; ``md5(seed || key)``, so
  the same seed replays identically), ``{"by": "highest"|"lowest", "field"}`` (NULLS LAST),
  ``{"by": "non_empty", "fields"}`` (records with the most non-empty values of ``fields`` first,
  then in the order of ``fields``), ``{"by": "priority", "field", "values"}`` (in the order of
  ``values``; other values last). Ties are broken by the key.

Both sets keep the population's columns and are written by one statement (a window ranking,
computed once, feeding two inserts).
"""

from audiences import rules
from audiences.population_ops import tables
from audiences.population_ops.paths import TEXT_TYPES, Source
from config.errors import ValidationFailed

TRANSFORMS = {
    "lower": "lower({})",
    "trim": "btrim({})",
    "digits": "regexp_replace({}, '[^0-9]+', '', 'g')",
}
CHOICES = ("random", "highest", "lowest", "non_empty", "priority")


def key_expression(source: Source, field, path: str) -> str:
    """The SQL of one deduplication field (transform applied, empty text as null)."""
    transform = None
    if isinstance(field, dict):
        field, transform = field.get("field"), field.get("transform")
        path = f"{path}.field"
    expression, kind = source.expr(field, path)
    if transform is not None:
        if transform not in TRANSFORMS:
            raise ValidationFailed([{"path": path, "message": "lower, trim or digits"}])
        expression = TRANSFORMS[transform].format(f"({expression})::text")
        kind = "string"
    return f"NULLIF({expression}, '')" if kind in TEXT_TYPES else expression


def _non_empty(expression, kind):
    if kind in TEXT_TYPES:
        return f"({expression} IS NOT NULL AND {expression} <> '')"
    return f"({expression} IS NOT NULL)"


def _by_field(source, choose, descending):
    expression, _kind = source.expr(choose.get("field"), "choose.field")
    return f"{expression} {'DESC' if descending else 'ASC'} NULLS LAST", []


def _by_non_empty(source, choose):
    flags = []
    for index, field in enumerate(choose.get("fields") or []):
        flags.append(_non_empty(*source.expr(field, f"choose.fields[{index}]")))
    if not flags:
        raise ValidationFailed([{"path": "choose.fields", "message": "name at least one field"}])
    total = " + ".join(f"{flag}::int" for flag in flags)
    return ", ".join([f"({total}) DESC", *(f"{flag} DESC" for flag in flags)]), []


def _by_priority(source, choose):
    expression, kind = source.expr(choose.get("field"), "choose.field")
    values = choose.get("values") or []
    params, cases = [], []
    for index, value in enumerate(values):
        try:
            params.append(rules.COERCE[kind](value))
        except (TypeError, ValueError, ArithmeticError):
            message = f"expected a {kind} value, got {value!r}"
            raise ValidationFailed(
                [{"path": f"choose.values[{index}]", "message": message}]
            ) from None
        cases.append(f"WHEN {expression} = %s THEN {index}")
    if not cases:
        return "0", []
    return f"CASE {' '.join(cases)} ELSE {len(cases)} END", params


def choice_order(source: Source, choose, seed) -> tuple[str, list]:
    """``(ORDER BY items, params)`` of ``choose``, before the key tiebreak."""
    by = (choose or {}).get("by", "random")
    if by == "random":
        return f"md5(%s || {source.alias}.key::text)", [str(seed)]
    if by in ("highest", "lowest"):
        return _by_field(source, choose, by == "highest")
    if by == "non_empty":
        return _by_non_empty(source, choose)
    if by == "priority":
        return _by_priority(source, choose)
    raise ValidationFailed([{"path": "choose.by", "message": ", ".join(CHOICES)}])


def deduplicate(*, population, fields, keep=1, choose=None, seed="", label=""):
    source = Source(population)
    keys = [key_expression(source, f, f"fields[{i}]") for i, f in enumerate(fields)]
    if not keys:
        raise ValidationFailed([{"path": "fields", "message": "name at least one field"}])
    order, params = choice_order(source, choose, seed)
    nulls = " OR ".join(f"{k} IS NULL" for k in keys)
    ranked = (
        f"ranked AS MATERIALIZED (SELECT p.key{tables.carried(population)}, CASE WHEN {nulls} "
        f"THEN 1 ELSE row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY {order}, "
        f"p.key) END AS rank_ FROM {source.from_sql()})"
    )
    columns = {c["name"]: c["type"] for c in population.columns}
    kept = tables.create(schema=population.schema, label=label, columns=columns)
    duplicates = tables.create(
        schema=population.schema, label=f"{label} duplicates", columns=columns
    )
    picked = tables.insert_columns(population)
    tables.fill_many(
        ranked,
        [
            (kept, f"SELECT {picked} FROM ranked WHERE rank_ <= %s"),
            (duplicates, f"SELECT {picked} FROM ranked WHERE rank_ > %s"),
        ],
        [*params, int(keep), int(keep)],
    )
    return kept, duplicates
