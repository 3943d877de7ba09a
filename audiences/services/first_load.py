"""The first load of a schema's table: a CSV file written once, straight into the empty typed table
(design 5.2, issue 10). Called by ``audiences.imports`` before the staging path.

Contract of ``first_load(cursor, target, columns, copy_rows, missing_links)``, in the caller's
transaction, under the schema's writer lock:
- inside a savepoint it locks the table, and returns None at once (nothing done) unless the table
  is empty;
- else it empties it (``TRUNCATE``: the new file makes ``COPY ... FREEZE`` valid), drops its
  primary key and indexes, calls ``copy_rows(sql)`` to stream the file with ``COPY <table> ...
  FROM STDIN (FREEZE, ...)`` (PostgreSQL casts every value on the way: type checks), runs every
  other check of design 5.2 in one scan (required, enum, empty keys, links when
  ``missing_links="reject"``), then builds the primary key (duplicate keys fail it) and indexes;
- on success it returns the number of rows written: nothing was rejected, nothing is older;
- when any value or check fails it rolls the savepoint back (the table is empty again, with its
  indexes) and raises ``FirstLoadRefused`` with the reason: the caller then runs the staging path,
  which finds every reject exactly. A malformed CSV line is ``FirstLoadRefused(malformed=True)``.
The table is locked (``ACCESS EXCLUSIVE``) until the caller commits.
"""

import logging
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.db import DatabaseError

from audiences.models import AttributeType
from audiences.services.records import Target, literal, q

log = logging.getLogger(__name__)
TEXT_TYPES = (AttributeType.STRING, AttributeType.TEXT)


class FirstLoadRefused(Exception):
    """The file cannot be written as it is; ``malformed``: PostgreSQL refused a CSV line."""

    def __init__(self, reason, *, malformed=False, encoding=None):
        super().__init__(reason)
        self.malformed = malformed
        self.encoding = encoding  # the psycopg error when the file is not in its encoding


def _is_empty(cursor, table):
    cursor.execute(f"LOCK TABLE {q(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {q(table)})")
    return cursor.fetchone()[0]


def _drop_indexes(cursor, table):
    """Drop the constraints (primary key, unique) and indexes of ``table``; returns the DDL that
    builds them again, constraints first."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY contype, conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {q(name)}")
    return [
        *(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(n)} {d}" for n, d in constraints),
        *(d for _n, d in indexes),
    ]


def _column_conditions(target, columns):
    """SQL conditions on the typed table, each true for a row that breaks required or enum."""
    conditions = []
    for name in columns:
        attribute, column = target.attributes[name], f"s.{q(name)}"
        text = attribute.type in TEXT_TYPES
        if attribute.required or name == target.pk:
            conditions.append(
                f"({column} IS NULL OR {column} = '')" if text else f"{column} IS NULL"
            )
        if attribute.enum:
            allowed = ", ".join(literal(str(v)) for v in attribute.enum)
            value = column if text else f"{column}::text"
            conditions.append(f"({value} <> '' AND {value} NOT IN ({allowed}))")
    return conditions


def _check_sql(target, columns, missing_links):
    """One query over the loaded table: true when some row breaks a check other than types."""
    conditions, joins = _column_conditions(target, columns), []
    if missing_links == "reject":
        for index, via in enumerate(c for c in columns if c in target.links):
            to, alias = target.links[via], f"l{index}"
            # a link into the same table finds its targets in the file itself
            joins.append(
                f"LEFT JOIN {q(to.table_name)} {alias} ON {alias}.{q(to.primary_key)} = s.{q(via)}"
            )
            blank = f" AND s.{q(via)} <> ''" if target.attributes[via].type in TEXT_TYPES else ""
            conditions.append(
                f"(s.{q(via)} IS NOT NULL{blank} AND {alias}.{q(to.primary_key)} IS NULL)"
            )
    if not conditions:
        return None
    # bool_or over every row, not EXISTS ... LIMIT 1: a clean file is the expected case, and a
    # LIMIT would tempt the planner into a nested loop of index probes instead of hash joins.
    return (
        f"SELECT coalesce(bool_or({' OR '.join(conditions)}), false) "
        f"FROM {q(target.table)} s {' '.join(joins)}"
    )


def first_load(
    cursor,
    target: Target,
    columns: list[str],
    copy_rows: Callable[..., int],
    missing_links: str,
) -> int | None:
    """Write the file into the empty table of ``target`` (see the module docstring)."""
    cursor.execute("SAVEPOINT audiences_first_load")
    if not _is_empty(cursor, target.table):
        cursor.execute("ROLLBACK TO SAVEPOINT audiences_first_load")
        return None
    try:
        cursor.execute(f"TRUNCATE {q(target.table)}")
        rebuild = _drop_indexes(cursor, target.table)
        names = ", ".join(q(c) for c in columns)
        written = copy_rows(f"COPY {q(target.table)} ({names}) FROM STDIN", freeze=True)
        check = _check_sql(target, columns, missing_links)
        if check:
            cursor.execute(check)
            if cursor.fetchone()[0]:
                raise FirstLoadRefused("some row breaks a check")
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, true)",
            [settings.IMPORT_MAINTENANCE_WORK_MEM],
        )
        for ddl in rebuild:
            cursor.execute(ddl)
    except (DatabaseError, psycopg.Error, FirstLoadRefused) as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT audiences_first_load")
        if isinstance(exc, FirstLoadRefused):
            raise
        cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
        sqlstate = getattr(cause, "sqlstate", None)
        log.info("first load of %s falls back to staging: %s", target.table, exc)
        raise FirstLoadRefused(
            str(exc),
            malformed=sqlstate == "22P04",
            encoding=cause if sqlstate in ("22021", "22P05") else None,
        ) from exc
    cursor.execute("RELEASE SAVEPOINT audiences_first_load")
    return written
