"""The first load of a schema's table: a CSV file written once, straight into the empty typed table
(design 5.2, issue 10). Called by ``audiences.imports`` before the staging path.

Contract of ``first_load(cursor, target, columns, copy_rows, missing_links)``, in the caller's
transaction, under the schema's writer lock:
- inside a savepoint it locks the table, and returns None at once (nothing done) unless the table
  is empty;
- else it empties it (``TRUNCATE``: the new file makes ``COPY ... FREEZE`` valid), drops its
  primary key and indexes, calls ``copy_rows(sql)`` to stream the file with ``COPY <table> ...
  FROM STDIN (FREEZE, ...)`` (PostgreSQL casts every value on the way: type checks), builds the
  primary key (duplicate and null keys fail it) and indexes, then runs every other check of
  design 5.2: required, enum and empty keys in one scan, and one index-only anti-join per link
  when ``missing_links="reject"``;
- on success it returns ``(rows, Outcome)`` (``path="first_load"``): every row written, nothing
  rejected, nothing older;
- when any value or check fails it rolls the savepoint back (the table is empty again, with its
  indexes) and raises ``FirstLoadRefused`` with the reason: the caller then runs the staging path,
  which finds every reject exactly. A malformed CSV line is ``FirstLoadRefused(malformed=True)``.
The table is locked (``ACCESS EXCLUSIVE``) until the caller commits.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import DatabaseError

from audiences.models import AttributeType
from audiences.services.records import Outcome, Target, literal, q

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
    """SQL conditions on the typed table, each true for a row that breaks required or enum (a
    null key needs none: building the primary key refuses it)."""
    conditions = []
    for name in columns:
        attribute, column = target.attributes[name], f"s.{q(name)}"
        text = attribute.type in TEXT_TYPES
        if name == target.pk:
            conditions += [f"{column} = ''"] if text else []
        elif attribute.required:
            conditions.append(
                f"({column} IS NULL OR {column} = '')" if text else f"{column} IS NULL"
            )
        if attribute.enum:
            allowed = ", ".join(literal(str(v)) for v in attribute.enum)
            value = column if text else f"{column}::text"
            conditions.append(f"({value} <> '' AND {value} NOT IN ({allowed}))")
    return conditions


def checks(target, columns, missing_links, source=None):
    """Queries over the loaded rows (the table itself, or ``source``), each true when some row
    breaks a check other than types: one scan for the column checks, one anti-join per link (a
    link into the same schema finds its targets in the file, and in the table when the file is
    in ``source``)."""
    rows = source or q(target.table)
    conditions = _column_conditions(target, columns)
    found = (
        [f"SELECT coalesce(bool_or({' OR '.join(conditions)}), false) FROM {rows} s"]
        if conditions
        else []
    )
    if missing_links == "reject":
        for via in (c for c in columns if c in target.links):
            to = target.links[via]
            blank = f" AND s.{q(via)} <> ''" if target.attributes[via].type in TEXT_TYPES else ""
            key = q(to.primary_key)
            in_file = (
                f" AND NOT EXISTS (SELECT 1 FROM {rows} f WHERE f.{key} = s.{q(via)})"
                if source and to.pk == target.schema.pk
                else ""
            )
            found.append(
                f"SELECT EXISTS (SELECT 1 FROM {rows} s WHERE s.{q(via)} IS NOT NULL{blank} "
                f"AND NOT EXISTS (SELECT 1 FROM {q(to.table_name)} l "
                f"WHERE l.{key} = s.{q(via)}){in_file})"
            )
    return found


def _run_checks(cursor, queries):
    """True when some check finds a bad row. The links are checked as merge anti-joins of the
    link column's new index and the target's key, both read index-only (``COPY ... FREEZE`` set
    the visibility map): 0.9 s for 10M rows against 1.6 s as a hash join, measured. Hash and
    nested-loop joins are off for these queries only (the new table has no statistics yet)."""
    with planner_off(cursor, "enable_hashjoin", "enable_nestloop"):
        return any_fails(cursor, queries)


@contextmanager
def planner_off(cursor, *names):
    """The planner settings ``names`` (``enable_hashjoin``...) off inside the block, then back
    to what they were. After an error the caller rolls back to its savepoint, which restores
    them (a statement now would fail in the aborted transaction and hide the error)."""
    if not names:
        yield
        return
    cursor.execute(
        "SELECT " + ", ".join("current_setting(%s), set_config(%s, 'off', true)" for _ in names),
        [n for name in names for n in (name, name)],
    )
    before = cursor.fetchone()[::2]
    yield
    cursor.execute(
        "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names),
        [v for pair in zip(names, before, strict=True) for v in pair],
    )


def any_fails(cursor, queries):
    """Whether one of the check ``queries`` finds a bad row (they run in order, up to it)."""
    for query in queries:
        cursor.execute(query)
        if cursor.fetchone()[0]:
            return True
    return False


@contextmanager
def refusals(cursor, target, savepoint):
    """Any error of the block rolls ``savepoint`` back and becomes ``FirstLoadRefused``: with
    ``malformed`` for a CSV line PostgreSQL refused, with ``encoding`` for a file not in its
    encoding."""
    try:
        yield
    except (DatabaseError, psycopg.Error, FirstLoadRefused) as exc:
        cursor.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
        if isinstance(exc, FirstLoadRefused):
            raise
        cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
        sqlstate = getattr(cause, "sqlstate", None)
        log.info("the fast write into %s falls back to staging: %s", target.table, exc)
        raise FirstLoadRefused(
            str(exc),
            malformed=sqlstate == "22P04",
            encoding=cause if sqlstate in ("22021", "22P05") else None,
        ) from exc


def first_load(
    cursor,
    target: Target,
    columns: list[str],
    copy_rows: Callable[..., int],
    missing_links: str,
) -> tuple[int, Outcome] | None:
    """Write the file into the empty table of ``target`` (see the module docstring)."""
    cursor.execute("SAVEPOINT audiences_first_load")
    if not _is_empty(cursor, target.table):
        cursor.execute("ROLLBACK TO SAVEPOINT audiences_first_load")
        return None
    with refusals(cursor, target, "audiences_first_load"):
        cursor.execute(f"TRUNCATE {q(target.table)}")
        rebuild = _drop_indexes(cursor, target.table)
        names = ", ".join(q(c) for c in columns)
        written = copy_rows(f"COPY {q(target.table)} ({names}) FROM STDIN", freeze=True)
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, true)",
            [settings.IMPORT_MAINTENANCE_WORK_MEM],
        )
        for ddl in rebuild:  # the key first: duplicate and null keys fail it
            cursor.execute(ddl)
        if _run_checks(cursor, checks(target, columns, missing_links)):
            raise FirstLoadRefused("some row breaks a check")
    cursor.execute("RELEASE SAVEPOINT audiences_first_load")
    return written, Outcome(written=written, path="first_load")
