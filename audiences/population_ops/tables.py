"""Creating and filling working sets (design 4).

- ``create(*, schema, label, columns) -> Population``: the row and its empty table
  ``pop_<id> (key <type>, c_1 <type>, ...)``; ``columns`` is ``{alias: type}`` in order;
  ``schema`` None makes a set of file rows keyed by a ``bigint`` line number.
- ``fill(population, sql, params)``: ``INSERT INTO pop_<id> (key, c_1, ...) <sql>``, then the count,
  the primary key when the set has added columns (``populations.add_key``: built after the
  insert, not maintained row by row), and ``ANALYZE``.
- ``fill_many(prelude, targets, params)``: several sets filled by one statement, a writable CTE
  ``WITH <prelude>, w0 AS (INSERT INTO ... <select> RETURNING 1), ...`` so a ranking or a match
  computed once feeds every output.
- ``insert_columns(population)``: ``"key, c_1, ..."``; ``carried(population, alias)``: the added
  columns of ``population`` read from alias ``alias`` (``", p.c_1, p.c_2"``).
"""

from types import SimpleNamespace

from django.db import connection

from audiences import dynamic
from audiences.models import Population
from audiences.populations import add_key


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def sql_type(kind: str) -> str:
    """The SQL type of an added column of attribute type ``kind``."""
    field = dynamic.scalar_field(
        SimpleNamespace(type=kind, required=False, indexed=False, precision=None, scale=None)
    )
    return field.db_type(connection)


def key_type(schema) -> str:
    if schema is None:
        return "bigint"
    return dynamic.get_model(schema.name)._meta.pk.db_type(connection)


def create(*, schema, label: str, columns: dict) -> Population:
    spec = [
        {"name": alias, "type": kind, "column": f"c_{n}"}
        for n, (alias, kind) in enumerate(columns.items(), start=1)
    ]
    population = Population.objects.create(schema=schema, label=label[:200], columns=spec)
    ddl = [f"key {key_type(schema)}"]
    ddl += [f"{c['column']} {sql_type(c['type'])}" for c in spec]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {population.table_name} ({', '.join(ddl)})")
    return population


def insert_columns(population) -> str:
    return ", ".join(["key", *(c["column"] for c in population.columns)])


def carried(population, alias: str = "p") -> str:
    return "".join(f", {alias}.{c['column']}" for c in population.columns)


def _finish(cursor, population, count):
    population.count = count
    add_key(cursor, population)
    cursor.execute(f"ANALYZE {population.table_name}")
    population.save(update_fields=["count"])


def fill(population, sql: str, params=()) -> Population:
    table = population.table_name
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({insert_columns(population)}) {sql}", list(params))
        _finish(cursor, population, cursor.rowcount)
    return population


def fill_many(prelude: str, targets: list, params=()) -> list:
    """Fill every ``(population, select)`` of ``targets`` in one statement after the CTEs of
    ``prelude`` (``"name AS MATERIALIZED (...)"``, or empty); returns the populations."""
    ctes = [prelude] if prelude else []
    for index, (population, select) in enumerate(targets):
        ctes.append(
            f"w{index} AS (INSERT INTO {population.table_name} ({insert_columns(population)}) "
            f"{select} RETURNING 1)"
        )
    counts = ", ".join(f"(SELECT count(*) FROM w{i})" for i in range(len(targets)))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {counts}", list(params))
        found = cursor.fetchone()
        for (population, _select), count in zip(targets, found, strict=True):
            _finish(cursor, population, count)
    return [population for population, _select in targets]


def drop(population) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {population.table_name}")
    population.delete()


def rows_of(population, *, offset: int = 0, limit: int = 50) -> list[dict]:
    """A page of ``population`` in key order: ``{"key", ALIAS...}`` (its own columns only; for a
    file's rows, which have no schema to read attributes from)."""
    names = ["key", *(c["name"] for c in population.columns)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {insert_columns(population)} FROM {population.table_name} "
            "ORDER BY key OFFSET %s LIMIT %s",
            [offset, limit],
        )
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
