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
    if any(attribute == pk for _v, _c, attribute in values):
        return _on_key(population, schema, source, table, pk, values, on, label)
    prelude = (
        f"m AS MATERIALIZED (SELECT p.key AS row_, t.{q(pk)} AS target_, count(*) OVER "
        f"(PARTITION BY p.key) AS n_ FROM {source.from_sql()} JOIN {q(table)} t ON {on})"
    )
    empty = " ".join(f"WHEN {value} IS NULL THEN %s" for value, _c, _a in values)
    params = [f"{column} is empty" for _v, column, _a in values]
    # why a line is rejected, from a join (a subquery per rejected line re-read all of m)
    reason = f"CASE {empty} WHEN multi.n_ IS NULL THEN %s ELSE 'matches ' || multi.n_ || %s END"
    several = "(SELECT row_, max(n_) AS n_ FROM m WHERE n_ > 1 GROUP BY row_) multi"
    params += [f"no {schema.name} matches", f" {schema.name} records"]
    out, rejects = _outputs(population, schema, label)
    carried = tables.carried(population)
    tables.fill_many(
        prelude,
        [
            (
                out,
                f"SELECT DISTINCT ON (m.target_) m.target_{carried} FROM m JOIN "
                f"{population.table_name} p ON p.key = m.row_ WHERE m.n_ = 1 "
                "ORDER BY m.target_, m.row_",
            ),
            (
                rejects,
                f"SELECT p.key{carried}, {reason} FROM {source.from_sql()} LEFT JOIN {several} "
                "ON multi.row_ = p.key WHERE NOT EXISTS "
                "(SELECT 1 FROM m WHERE m.row_ = p.key AND m.n_ = 1)",
            ),
        ],
        params,
    )
    return out, rejects


def _outputs(population, schema, label):
    columns = {c["name"]: c["type"] for c in population.columns}
    out = tables.create(schema=schema, label=label, columns=columns)
    rejects = tables.create(
        schema=population.schema,
        label=f"{label} rejects",
        columns={**columns, reason_alias(population): "string"},
    )
    return out, rejects


def _on_key(population, schema, source, table, pk, values, on, label):
    """Pairs that include the primary key match at most one record each: no count of matches
    per row to keep (never ambiguous), so each output is one plain join, as by hand."""
    out, rejects = _outputs(population, schema, label)
    empty = " ".join(f"WHEN {value} IS NULL THEN %s" for value, _c, _a in values)
    params = [f"{column} is empty" for _v, column, _a in values] + [f"no {schema.name} matches"]
    carried = tables.carried(population)
    tables.fill_many(
        "",
        [
            (
                out,
                f"SELECT DISTINCT ON (t.{q(pk)}) t.{q(pk)}{carried} FROM {source.from_sql()} "
                f"JOIN {q(table)} t ON {on} ORDER BY t.{q(pk)}, p.key",
            ),
            (
                rejects,
                f"SELECT p.key{carried}, CASE {empty} ELSE %s END FROM {source.from_sql()} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {q(table)} t WHERE {on})",
            ),
        ],
        params,
    )
    return out, rejects
