"""Writing records into a schema's table, set-based (design 5.2).

Every write, from the records API or a CSV import, goes through one path:

1. the rows are *staged* as text in a temporary table ``_stage`` (``_row`` = the record's index or
   the CSV row number, ``_op`` = ``u`` upsert/insert or ``d`` delete, one text column per attribute);
2. they are validated in SQL, in a few scans of the staging table: types (regular expressions that
   work on PostgreSQL 15 to 18, plus a safe cast for the rare day 29-31 dates), required values,
   enums, the ``_change_request_type`` value, links to missing records (``missing_links=reject``),
   duplicate keys, and, in ``insert`` mode, keys that already exist; each problem becomes a row of
   ``_rej`` (row, attribute, message);
3. the valid rows are written with one ``INSERT ... ON CONFLICT DO UPDATE`` whose ``WHERE`` leaves
   alone the rows already stored as staged (counted as ``unchanged``, and in ``written``) and keeps
   a newer stored ``version_field`` (those rows are counted as ``skipped_older``), and one
   ``DELETE``.

Writers of one schema are serialized by ``pg_advisory_xact_lock(IMPORT_LOCK, schema id)`` taken
just before validation, so two imports into one schema end consistent.

Callers: ``audiences.imports`` (CSV files) and ``audiences.services.record_documents`` (the JSON
records document).
"""

from dataclasses import dataclass, field

import psycopg.errors
from django.conf import settings
from django.db import DatabaseError, DataError, connection

from audiences.models import AttributeType

IMPORT_LOCK = 4242  # first key of the advisory lock; the second is the schema id
MODES = ("upsert", "insert", "delete")
MISSING_LINKS = ("reject", "accept")
OP_COLUMN = "_change_request_type"
MAX_KEPT_REJECTS = 100_000
BULK_ROWS = 100_000
BULK_SHARE = 5  # a file of at least a fifth of the table is a bulk write

BIGINT = (-(2**63), 2**63 - 1)  # the range of an integer attribute (bigint)
_DAY = r"(0[1-9]|[12]\d|3[01])"
_DATE = rf"[1-9]\d{{3}}-(0[1-9]|1[0-2])-{_DAY}"
_TIME = (
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?)?\s*(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?"
)
# type: (regular expression, SQL type, what the value must be)
TYPE_CHECKS = {
    AttributeType.INTEGER: (r"^\s*[+-]?\d{1,19}\s*$", "bigint", "an integer"),  # + range
    AttributeType.FLOAT: (
        r"^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,2})?|NaN|[+-]?Infinity)\s*$",
        "double precision",
        "a number",
    ),
    AttributeType.BOOLEAN: (
        r"^\s*([tT]([rR][uU][eE])?|[fF]([aA][lL][sS][eE])?|[yY]([eE][sS])?|[nN][oO]?|[oO][nN]|[oO][fF][fF]|1|0)\s*$",
        "boolean",
        "true or false",
    ),
    AttributeType.DATE: (rf"^\s*{_DATE}\s*$", "date", "a date (YYYY-MM-DD)"),
    AttributeType.DATETIME: (rf"^\s*{_DATE}{_TIME}\s*$", "timestamptz", "an ISO 8601 date-time"),
}


@dataclass
class Outcome:
    """What a write did: counts, the rejects as (row, attribute, message), rows ordered, and the
    path it took (``first_load``: written once into the empty table; ``upsert``: from a typed
    copy, unchanged rows left alone; ``staged``). ``written`` counts every row now stored as
    written, ``unchanged`` those of them that already were and were not rewritten."""

    written: int = 0
    unchanged: int = 0
    skipped_older: int = 0
    rejected: int = 0
    rejects: list = field(default_factory=list)
    path: str = "staged"


def q(name):
    return connection.ops.quote_name(name)


class Target:
    """A schema's table as the writer sees it: attributes by name, link targets by ``via``."""

    def __init__(self, schema):
        self.schema = schema
        self.attributes = {a.name: a for a in schema.attributes.all()}
        self.links = {link.via: link.to for link in schema.links.select_related("to")}
        self.pk = schema.primary_key
        self.table = schema.table_name

    def sql_type(self, name):
        attribute = self.attributes[name]
        if attribute.type == AttributeType.DECIMAL:
            scale = attribute.scale if attribute.scale is not None else 4
            return f"numeric({attribute.precision or 18},{scale})"
        check = TYPE_CHECKS.get(attribute.type)
        return check[1] if check else None

    def value(self, name, alias="s"):
        """The typed SQL expression of staged column ``name``."""
        sql_type = self.sql_type(name)
        if sql_type is None:
            return f"{alias}.{q(name)}"
        return f"NULLIF({alias}.{q(name)}, '')::{sql_type}"

    def type_check(self, name):
        """(SQL condition true when the staged value is invalid, message), or None."""
        attribute, column = self.attributes[name], f"s.{q(name)}"
        if attribute.type == AttributeType.DECIMAL:
            scale = attribute.scale if attribute.scale is not None else 4
            digits = (attribute.precision or 18) - scale
            whole = rf"0*\d{{1,{digits}}}" if digits else "0*"
            regex = rf"^\s*[+-]?({whole}(\.\d*)?|\.\d+)\s*$"
            return (
                f"{column} <> '' AND {column} !~ '{regex}'",
                f"not a decimal with at most {digits} digits before the point",
            )
        if attribute.type not in TYPE_CHECKS:
            return None
        regex, _sql_type, what = TYPE_CHECKS[attribute.type]
        condition = f"{column} <> '' AND {column} !~ '{regex}'"
        if attribute.type == AttributeType.INTEGER:  # 19 digits may be out of bigint's range
            condition = (
                f"CASE WHEN {column} = '' THEN false WHEN {column} !~ '{regex}' THEN true "
                f"WHEN length(btrim({column})) < 19 THEN false ELSE btrim({column})::numeric "
                f"NOT BETWEEN {BIGINT[0]} AND {BIGINT[1]} END"
            )
        if attribute.type in (AttributeType.DATE, AttributeType.DATETIME):
            # CASE fixes the order: make_date() only sees values the regex accepted.
            day, month, year = (
                f"substr(btrim({column}), {i}, {n})" for i, n in ((9, 2), (6, 2), (1, 4))
            )
            condition = (
                f"CASE WHEN {column} = '' THEN false WHEN {column} !~ '{regex}' THEN true "
                f"WHEN {day} <= '28' THEN false ELSE {day}::int > extract(day FROM "
                f"make_date({year}::int, {month}::int, 1) + interval '1 month - 1 day') END"
            )
        return condition, f"not {what}"


def _column_checks(target, columns, *, types=True, others=True):
    """[(attribute, SQL condition of a bad value, message)] for the staged ``columns``: the type
    checks (regular expressions: slow) and the others (required, enum, ``_op``: cheap)."""
    checks = [("_op", "s._op NOT IN ('u', 'd')", f"{OP_COLUMN} must be u or d")] if others else []
    for name in columns:
        attribute = target.attributes[name]
        only_writes = "" if name == target.pk else "s._op = 'u' AND "
        if others and (attribute.required or name == target.pk):
            checks.append(
                (name, f"{only_writes}(s.{q(name)} IS NULL OR s.{q(name)} = '')", "required")
            )
        type_check = target.type_check(name) if types else None
        if type_check:
            checks.append((name, f"s.{q(name)} IS NOT NULL AND {type_check[0]}", type_check[1]))
        if others and attribute.enum:
            allowed = ", ".join(literal(str(v)) for v in attribute.enum)
            listed = ", ".join(str(v) for v in attribute.enum)
            checks.append(
                (
                    name,
                    f"{only_writes}s.{q(name)} <> '' AND s.{q(name)} NOT IN ({allowed})",
                    f"not one of: {listed}",
                )
            )
    return checks


def literal(text):
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _insert_rejects(cursor, checks, source="_stage s", extra_where=""):
    """One scan: a ``_rej`` row for every (row, check) that fails."""
    if not checks:
        return
    values = ", ".join(
        f"({literal(col)}, CASE WHEN {cond} THEN {literal(msg)} END)" for col, cond, msg in checks
    )
    any_bad = " OR ".join(f"({cond})" for _col, cond, _msg in checks)
    cursor.execute(
        f"INSERT INTO _rej (_row, col, message) SELECT s._row, e.col, e.message FROM {source} "
        f"CROSS JOIN LATERAL (VALUES {values}) AS e(col, message) "
        f"WHERE ({any_bad}) {extra_where} AND e.message IS NOT NULL"
    )


VALID = "NOT EXISTS (SELECT 1 FROM _rej r WHERE r._row = s._row)"


def _reject_missing_links(cursor, target, columns):
    """Rows whose link points to no record (a link to the schema itself may point into the batch)."""
    joins, checks = [], []
    for index, via in enumerate(c for c in columns if c in target.links):
        to = target.links[via]
        alias = f"t{index}"
        condition = f"s.{q(via)} <> '' AND {alias}.{q(to.primary_key)} IS NULL"
        if to.pk == target.schema.pk:
            condition += (
                f" AND NOT EXISTS (SELECT 1 FROM _stage b WHERE b.{q(target.pk)} = s.{q(via)})"
            )
        joins.append(
            f"LEFT JOIN {q(to.table_name)} {alias} "
            f"ON {alias}.{q(to.primary_key)} = {target.value(via)}"
        )
        checks.append((via, condition, f"no {to.name} with this key"))
    if checks:
        # The filter runs in the scan of _stage, before the joins cast the via values.
        source = f"(SELECT * FROM _stage s WHERE s._op = 'u' AND {VALID}) s " + " ".join(joins)
        _insert_rejects(cursor, checks, source=source)


def _reject_duplicates(cursor, target):
    key = target.value(target.pk)
    cursor.execute(
        f"INSERT INTO _rej (_row, col, message) SELECT _row, %s, "
        f"'duplicate key: same as row ' || first FROM (SELECT s._row, "
        f"min(s._row) OVER (PARTITION BY {key}) AS first FROM _stage s WHERE {VALID}) d "
        f"WHERE _row <> first",
        [target.pk],
    )


def _reject_existing(cursor, target):
    cursor.execute(
        f"INSERT INTO _rej (_row, col, message) SELECT s._row, %s, 'already exists' "
        f"FROM _stage s JOIN {q(target.table)} t ON t.{q(target.pk)} = {target.value(target.pk)} "
        f"WHERE s._op = 'u' AND {VALID}",
        [target.pk],
    )


def _upsert(cursor, target, columns, mode):
    values = ", ".join(target.value(c) for c in columns)
    source = f"_stage s WHERE s._op = 'u' AND {VALID}"
    cursor.execute(upsert_sql(target, columns, mode, source=source, values=values))
    return cursor.rowcount


def upsert_sql(target, columns, mode, *, source, values):
    """``INSERT INTO`` the table ``SELECT values FROM source``; in ``upsert`` mode ``ON CONFLICT``
    updates the stored row unless its ``version_field`` is newer."""
    names = ", ".join(q(c) for c in columns)
    sql = f"INSERT INTO {q(target.table)} AS t ({names}) SELECT {values} FROM {source}"
    if mode == "upsert":
        updates = [q(c) for c in columns if c != target.pk] or [q(target.pk)]
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
        stored = ", ".join(f"t.{c}" for c in updates)
        staged = ", ".join(f"EXCLUDED.{c}" for c in updates)
        sql += (
            f" ON CONFLICT ({q(target.pk)}) DO UPDATE SET {sets} "
            f"WHERE ({stored}) IS DISTINCT FROM ({staged})"
        )
        version = target.schema.version_field
        if version and version in columns:
            v = q(version)
            sql += f" AND (t.{v} IS NULL OR EXCLUDED.{v} IS NULL OR EXCLUDED.{v} >= t.{v})"
    return sql


def _delete(cursor, target):
    cursor.execute(
        f"DELETE FROM {q(target.table)} t USING _stage s WHERE s._op = 'd' AND {VALID} "
        f"AND t.{q(target.pk)} = {target.value(target.pk)}"
    )
    return cursor.rowcount


def create_stage(cursor, columns, op="u"):
    """The temporary staging table (dropped at commit): ``_row``, ``_op`` (default ``op``, u or d)
    and one text column per attribute."""
    assert op in ("u", "d")
    cursor.execute("DROP TABLE IF EXISTS _stage; DROP TABLE IF EXISTS _rej")
    texts = "".join(f", {q(c)} text" for c in columns)
    cursor.execute(
        f"CREATE TEMP TABLE _stage (_row bigserial, _op text DEFAULT '{op}'{texts}) ON COMMIT DROP"
    )
    cursor.execute("CREATE TEMP TABLE _rej (_row bigint, col text, message text) ON COMMIT DROP")


def lock_schema(cursor, schema):
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, schema.pk])


def validate_staged(cursor, *, target, columns, mode, missing_links):
    """Every check of ``_stage`` (filled by the caller in this transaction) into ``_rej``, under
    the schema's writer lock (held until the transaction ends)."""
    lock_schema(cursor, target.schema)
    cursor.execute("ANALYZE _stage")
    _insert_rejects(cursor, _column_checks(target, columns))
    if missing_links == "reject":
        _reject_missing_links(cursor, target, columns)
    _reject_duplicates(cursor, target)
    if mode == "insert":
        _reject_existing(cursor, target)


def write_staged(cursor, *, target, columns, mode, missing_links, staged_rows, ops=True):
    """Validate ``_stage`` and write its valid rows; returns an Outcome. ``ops``: rows may have
    different ``_op`` values (else all are ``u``).

    Optimistic about types, which are the slow checks (regular expressions): the cheap checks run
    first, then the links are checked and the rows written with their casts; only when a cast
    fails is everything since undone, the types checked, and the write done again."""
    lock_schema(cursor, target.schema)
    cursor.execute("ANALYZE _stage")
    _insert_rejects(cursor, _column_checks(target, columns, types=False))
    if mode == "insert":
        _insert_rejects(cursor, _column_checks(target, columns, others=False))
        _reject_duplicates(cursor, target)
        _reject_existing(cursor, target)
    cursor.execute("SAVEPOINT audiences_typed")
    try:
        outcome = _links_and_write(cursor, target, columns, mode, missing_links, staged_rows, ops)
    except DataError:
        cursor.execute("ROLLBACK TO SAVEPOINT audiences_typed")
        _insert_rejects(cursor, _column_checks(target, columns, others=False))
        outcome = _links_and_write(cursor, target, columns, mode, missing_links, staged_rows, ops)
    collect_rejects(cursor, outcome)
    return outcome


def _links_and_write(cursor, target, columns, mode, missing_links, staged_rows, ops):
    if missing_links == "reject":
        _reject_missing_links(cursor, target, columns)
    outcome = Outcome()
    rebuild = bulk_indexes(cursor, target, staged_rows)
    for name, _definition in rebuild:
        cursor.execute(f"DROP INDEX {q(name)}")
    if rebuild and mode == "upsert" and not ops and _is_empty(cursor, target):
        mode = "insert"  # nothing to conflict with but duplicates in the file (see _write)
    outcome.written, outcome.skipped_older, outcome.unchanged = _write(
        cursor, target, columns, mode, None if ops else staged_rows
    )
    if rebuild:
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, true)",
            [settings.IMPORT_MAINTENANCE_WORK_MEM],
        )
    for _name, definition in rebuild:
        cursor.execute(definition)
    return outcome


def _is_empty(cursor, target):
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {q(target.table)})")
    return cursor.fetchone()[0]


def bulk_indexes(cursor, target, rows):
    """The secondary indexes to drop and build again around a bulk write: when the ``rows`` to
    write are many (``BULK_ROWS``) and at least ``1 / BULK_SHARE`` of the table, building an
    index by sorting is faster than inserting millions of keys into it one by one (measured: a
    10M-row upsert into a 10M-row table takes half the time). The table stays locked (readers
    wait) until the import commits: this is what bulk loads of big files look like."""
    if rows is None or rows < BULK_ROWS:
        return []
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [target.table])
    if cursor.fetchone()[0] > rows * BULK_SHARE:
        return []
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique",
        [target.table],
    )
    return cursor.fetchall()


def _candidates(cursor, staged_rows):
    """Valid rows to upsert: counted, or ``staged_rows`` less the rejected when all are ``u``."""
    if staged_rows is None:
        cursor.execute(f"SELECT count(*) FROM _stage s WHERE s._op = 'u' AND {VALID}")
        return cursor.fetchone()[0]
    cursor.execute("SELECT count(DISTINCT _row) FROM _rej")
    return staged_rows - cursor.fetchone()[0]


def _write(cursor, target, columns, mode, staged_rows=None):
    """(written, skipped_older, unchanged). An upsert leaves alone the rows already stored as
    staged (``unchanged``, counted in ``written``): a key given twice would then slip through,
    so duplicates are looked for first. An insert looks for them only when it trips on one."""
    if mode == "upsert":
        _reject_duplicates(cursor, target)
    candidates = _candidates(cursor, staged_rows)
    cursor.execute("SAVEPOINT audiences_write")
    try:
        upserted = _upsert(cursor, target, columns, mode) if candidates else 0
    except DatabaseError as exc:  # an insert meets the same key twice in the file
        duplicate = (psycopg.errors.CardinalityViolation, psycopg.errors.UniqueViolation)
        if not isinstance(exc.__cause__, duplicate):
            raise
        cursor.execute("ROLLBACK TO SAVEPOINT audiences_write")
        _reject_duplicates(cursor, target)
        candidates = _candidates(cursor, staged_rows)
        upserted = _upsert(cursor, target, columns, mode)
    older = _older(cursor, target, columns) if candidates > upserted else 0
    unchanged = candidates - upserted - older
    deleted = _delete(cursor, target) if staged_rows is None else 0
    return upserted + unchanged + deleted, older, unchanged


def _older(cursor, target, columns):
    """Valid staged rows older than the stored ``version_field``, after the upsert (the rows it
    wrote or found unchanged now hold the staged version)."""
    version = target.schema.version_field
    if not version or version not in columns:
        return 0
    cursor.execute(
        f"SELECT count(*) FROM _stage s JOIN {q(target.table)} t "
        f"ON t.{q(target.pk)} = {target.value(target.pk)} WHERE s._op = 'u' AND {VALID} "
        f"AND t.{q(version)} > {target.value(version)}"
    )
    return cursor.fetchone()[0]


def collect_rejects(cursor, outcome):
    cursor.execute("SELECT count(DISTINCT _row) FROM _rej")
    outcome.rejected = cursor.fetchone()[0]
    cursor.execute(
        "SELECT _row, col, message FROM _rej ORDER BY _row, col LIMIT %s", [MAX_KEPT_REJECTS]
    )
    outcome.rejects = cursor.fetchall()


# --- The records API (design 5.2) -------------------------------------------------------------
