"""Reconciliation (design 5.4 ``reconciliation``): a file's rows, or a population, mapped onto
the records of a schema by attribute pairs.

``reconcile(*, population, schema, pairs, label="") -> (out, rejects)``

- ``pairs``: ``[{"column", "attribute"}]``: a row matches a record of ``schema`` when every
  column (a reference of ``population``: a file column, an added column, an attribute path)
  equals the record's attribute. A null never matches.
- ``out``: the matched records of ``schema`` (each once: the first matching row, by key, gives
  the columns), with ``population``'s columns.
- ``rejects``: the rows that match no record, or several (ambiguous), with their columns and a
  ``reason`` (``"no customer matches"``, ``"email is empty"``, ``"matches 2 customer records"``).
Both are written by one statement over a materialized match (two plain joins when the pairs
include the primary key: a row then matches one record at most).
- ``type_error(column_type, attribute_type) -> str | None``: whether the two can be compared.
"""

from audiences.population_ops import tables
from audiences.population_ops.paths import Source, table_of
from audiences.population_ops.tables import q

FAMILIES = {
    "string": "text",
    "text": "text",
    "integer": "number",
    "decimal": "number",
    "float": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}


def type_error(column_type: str, attribute_type: str) -> str | None:
    if FAMILIES.get(column_type) == FAMILIES.get(attribute_type):
        return None
    return f"a {column_type} column cannot match a {attribute_type} attribute"


def reason_alias(population) -> str:
    names = {c["name"] for c in population.columns}
    return "reason" if "reason" not in names else "reject_reason"


def reconcile(*, population, schema, pairs, label=""):
    source = Source(population)
    table, pk = table_of(schema.name)
    values = [
        (source.expr(p["column"], f"pairs[{i}].column")[0], p["column"], p["attribute"])
        for i, p in enumerate(pairs)
    ]
    on = " AND ".join(f"t.{q(attribute)} = {value}" for value, _c, attribute in values)
    empty = " ".join(f"WHEN {value} IS NULL THEN %s" for value, _c, _a in values)
    params = [f"{column} is empty" for _v, column, _a in values] + [f"no {schema.name} matches"]
    columns = {c["name"]: c["type"] for c in population.columns}
    out = tables.create(schema=schema, label=label, columns=columns)
    rejects = tables.create(
        schema=population.schema,
        label=f"{label} rejects",
        columns={**columns, reason_alias(population): "string"},
    )
    carried = tables.carried(population)
    on_key = any(attribute == pk for _v, _c, attribute in values)
    statements = _on_key if on_key else _counted
    prelude, matched, unmatched, more = statements(population, schema, source, table, pk, on)
    rejected = f"SELECT p.key{carried}, CASE {empty} {unmatched}"
    tables.fill_many(prelude, [(out, matched), (rejects, rejected)], params + more)
    return out, rejects


def _counted(population, schema, source, table, pk, on):
    """``(prelude, matched rows, rest of the rejected rows' reason and query, params)`` over a
    materialized match with the count of records each row matches: a row matching several is
    rejected as ambiguous."""
    carried = tables.carried(population)
    prelude = (
        f"m AS MATERIALIZED (SELECT p.key AS row_, t.{q(pk)} AS target_, count(*) OVER "
        f"(PARTITION BY p.key) AS n_ FROM {source.from_sql()} JOIN {q(table)} t ON {on})"
    )
    matched = (
        f"SELECT DISTINCT ON (m.target_) m.target_{carried} FROM m JOIN "
        f"{population.table_name} p ON p.key = m.row_ WHERE m.n_ = 1 ORDER BY m.target_, m.row_"
    )
    # why a line is rejected, from a join (a subquery per rejected line re-read all of m)
    several = "(SELECT row_, max(n_) AS n_ FROM m WHERE n_ > 1 GROUP BY row_) multi"
    unmatched = (
        "WHEN multi.n_ IS NULL THEN %s ELSE 'matches ' || multi.n_ || %s END "
        f"FROM {source.from_sql()} LEFT JOIN {several} ON multi.row_ = p.key "
        "WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.row_ = p.key AND m.n_ = 1)"
    )
    return prelude, matched, unmatched, [f" {schema.name} records"]


def _on_key(population, schema, source, table, pk, on):
    """The same, when the pairs include the primary key: a row matches one record at most (never
    ambiguous), so each output is one plain join, as by hand."""
    matched = (
        f"SELECT DISTINCT ON (t.{q(pk)}) t.{q(pk)}{tables.carried(population)} "
        f"FROM {source.from_sql()} JOIN {q(table)} t ON {on} ORDER BY t.{q(pk)}, p.key"
    )
    unmatched = (
        f"ELSE %s END FROM {source.from_sql()} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {q(table)} t WHERE {on})"
    )
    return "", matched, unmatched, []
