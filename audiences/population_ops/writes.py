"""Writing records of a schema from a population (design 5.4 ``update_data``), set-based, through
the one record write path (``audiences.services.records``: staging, checks in SQL, versioned
upsert, delete), never row by row.

``write(*, population, schema, operation, key=None, mapping=None, label="") -> (out, rejects,
counts)``

- ``mapping``: ``{attribute: reference}`` (``paths``: a file column, an added column, an attribute
  path of the population); empty: every column of the population named like an attribute.
- Records are identified by primary key: the mapped primary key, else (same schema) the
  population's key; or, with ``key`` (attributes, each mapped), by the record whose ``key``
  attributes equal the mapped values (several such records: the row is rejected).
- ``operation``: ``insert`` (refused for an existing record), ``update`` (existing records only:
  only the mapped attributes change), ``upsert``, ``delete``. Writes keep a newer stored
  ``version_field`` (counted as ``skipped_older``).
- ``out``: the population's rows that were not rejected; ``rejects``: the others with ``reason``;
  ``counts``: ``{"written", "skipped_older", "rejected"}``.
"""

from django.db import connection

from audiences.population_ops import tables
from audiences.population_ops.paths import Source, table_of
from audiences.population_ops.reconcile import reason_alias
from audiences.population_ops.tables import q
from audiences.services import records

OPERATIONS = ("insert", "update", "upsert", "delete")


def default_mapping(columns: dict, attributes) -> dict:
    return {name: name for name in columns if name in attributes}


def _identity(source, population, schema, key, mapped, params):
    """(SQL of the record's primary key as text, extra FROM, reason SQL) of each row."""
    table, pk = table_of(schema.name)
    if not key:
        if schema.primary_key in mapped:
            return f"({mapped[schema.primary_key]})::text", "", "NULL"
        return f"{source.alias}.key::text", "", "NULL"
    on = " AND ".join(f"t.{q(a)} = {mapped[a]}" for a in key)
    match = (
        f"LEFT JOIN LATERAL (SELECT min(t.{q(pk)}::text) AS pk_, count(*) AS n_ FROM {q(table)} t "
        f"WHERE {on}) m ON true"
    )
    params.append(f"matches several {schema.name} records")
    return "m.pk_", match, "CASE WHEN m.n_ > 1 THEN %s END"


def _stage_rows(cursor, source, population, schema, operation, key, mapped):
    """``_wrows``: each row's number, key, record key, reason to refuse it, and mapped values."""
    params = []
    identity, match, ambiguous = _identity(source, population, schema, key, mapped, params)
    if key and schema.primary_key in mapped and operation in ("insert", "upsert"):
        identity = f"COALESCE({identity}, ({mapped[schema.primary_key]})::text)"
    table, pk = table_of(schema.name)
    exists = f"EXISTS (SELECT 1 FROM {q(table)} e WHERE e.{q(pk)}::text = {identity})"
    reasons = [ambiguous]
    if operation in ("update", "delete"):
        reasons.append(f"CASE WHEN NOT {exists} THEN %s END")
        params.append(f"no {schema.name} with this key")
    reasons.append(f"CASE WHEN {identity} IS NULL THEN %s END")
    params.append("no primary key to identify the record")
    if operation == "insert" and key:
        reasons.append(f"CASE WHEN {exists} THEN %s END")
        params.append("already exists")
    values = "".join(f", ({v})::text AS {q('v_' + a)}" for a, v in mapped.items())
    cursor.execute("DROP TABLE IF EXISTS _wrows")
    cursor.execute(
        f"CREATE TEMP TABLE _wrows ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY "
        f"{source.alias}.key) AS row_, {source.alias}.key AS key_, {identity} AS pk_, "
        f"COALESCE({', '.join(reasons)}) AS reason_{values} FROM {source.from_sql()} {match}",
        params,
    )


def _write_staged(cursor, schema, operation, mapped):
    target = records.Target(schema)
    columns = [schema.primary_key] + [a for a in mapped if a != schema.primary_key]
    if operation == "delete":
        columns = [schema.primary_key]
    op = "d" if operation == "delete" else "u"
    records.create_stage(cursor, columns, op=op)
    names = ", ".join(q(c) for c in columns)
    values = ", ".join("pk_" if c == schema.primary_key else q(f"v_{c}") for c in columns)
    cursor.execute(
        f"INSERT INTO _stage (_row, {names}) SELECT row_, {values} FROM _wrows "
        "WHERE reason_ IS NULL"
    )
    staged = cursor.rowcount
    return records.write_staged(
        cursor,
        target=target,
        columns=columns,
        mode="insert" if operation == "insert" else "upsert",
        missing_links="reject",
        staged_rows=staged,
        ops=operation == "delete",
    )


def write(*, population, schema, operation, key=None, mapping=None, label=""):
    source = Source(population)
    attributes = {a.name for a in schema.attributes.all()}
    columns = {c["name"]: c["type"] for c in population.columns}
    mapping = mapping or default_mapping(columns, attributes)
    mapped = {a: source.expr(ref, f"mapping.{a}")[0] for a, ref in mapping.items()}
    with connection.cursor() as cursor:
        records.lock_schema(cursor, schema)
        _stage_rows(cursor, source, population, schema, operation, key or [], mapped)
        outcome = _write_staged(cursor, schema, operation, mapped)
    reason = reason_alias(population)
    rejects = tables.create(
        schema=population.schema, label=f"{label} rejects", columns={**columns, reason: "string"}
    )
    carried = tables.carried(population)
    tables.fill(
        rejects,
        f"SELECT p.key{carried}, COALESCE(w.reason_, r.reason_) FROM _wrows w "
        f"JOIN {population.table_name} p ON p.key = w.key_ LEFT JOIN (SELECT _row, "
        "string_agg(col || ': ' || message, '; ' ORDER BY col) AS reason_ FROM _rej GROUP BY _row) r "
        "ON r._row = w.row_ WHERE w.reason_ IS NOT NULL OR r.reason_ IS NOT NULL",
    )
    out = tables.create(schema=population.schema, label=label, columns=columns)
    tables.fill(
        out,
        f"SELECT p.key{carried} FROM {population.table_name} p WHERE NOT EXISTS "
        f"(SELECT 1 FROM {rejects.table_name} r WHERE r.key = p.key)",
    )
    counts = {
        "written": outcome.written,
        "skipped_older": outcome.skipped_older,
        "rejected": rejects.count,
    }
    return out, rejects, counts
