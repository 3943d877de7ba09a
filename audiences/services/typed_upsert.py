"""The upsert of a CSV file into a populated table, from a typed copy that leaves unchanged rows
alone (design 5.2, issue 10). Called by ``audiences.imports`` when the table is not empty, the
mode is ``upsert`` and the file has no ``_change_request_type`` column.

Contract of ``typed_upsert(cursor, target, columns, copy_rows, missing_links)``, in the caller's
transaction, under the schema's writer lock:
- inside a savepoint it calls ``copy_rows(sql)`` to stream the file into a table
  ``_typed_<backend pid>`` with the target's column types (PostgreSQL casts every value on the
  way: the same type checks as a first load), builds its primary key (duplicate and null keys
  fail it), then runs the other checks of design 5.2 on it: required, enum and empty keys in
  one scan, one anti-join per link when ``missing_links="reject"`` (a link into the same schema
  finds its target in the table or in the file);
- the rows that are new, or differ from the stored row in some column of the file, go to
  ``_changed`` (one join of the file and the table); only those are written, with one
  ``INSERT ... ON CONFLICT DO UPDATE`` whose ``WHERE`` keeps a newer stored ``version_field``.
  A file that repeats what is stored (a daily full export) writes almost nothing: no new row
  versions, no WAL, no index entries for the rows that did not change; and a changed row whose
  indexed columns did not change is rewritten in its own page (``ddl.FILLFACTOR``: HOT);
- it returns ``(rows, Outcome)``: ``written`` counts every row now stored as the file says,
  ``unchanged`` those of them that already were (and were not rewritten), ``skipped_older``
  the rows older than the stored version;
- when any value or check fails it rolls the savepoint back (nothing written) and raises
  ``FirstLoadRefused``: the caller then runs the staging path, which finds every reject exactly.

The copy is an ``UNLOGGED`` table rather than a temporary one: PostgreSQL scans it with parallel
workers and through shared buffers (measured: 36-43 s against 40-47 s for a 10M-row upsert). It
is created and dropped inside the import's transaction, so no other session ever sees it and a
crash or a rollback leaves nothing behind.
"""

from collections.abc import Callable

from django.conf import settings

from audiences.services import first_load
from audiences.services.records import Outcome, Target, bulk_indexes, q, upsert_sql

SAVEPOINT = "audiences_typed_upsert"
KEY_ORDER = (0.9, 0.5)  # pg_stats.correlation of the key: the file's, the table's


def typed_upsert(
    cursor,
    target: Target,
    columns: list[str],
    copy_rows: Callable[..., int],
    missing_links: str,
) -> tuple[int, Outcome]:
    """Upsert the file into the table of ``target`` (see the module docstring)."""
    names = ", ".join(q(c) for c in columns)
    table, pk = q(target.table), q(target.pk)
    cursor.execute("DROP TABLE IF EXISTS pg_temp._changed")  # an import before, in this transaction
    cursor.execute("SELECT pg_backend_pid()")
    typed = f"_typed_{cursor.fetchone()[0]}"
    cursor.execute(f"SAVEPOINT {SAVEPOINT}")
    with first_load.refusals(cursor, target, SAVEPOINT):
        cursor.execute(f"CREATE UNLOGGED TABLE {typed} AS SELECT {names} FROM {table} WITH NO DATA")
        rows = copy_rows(f"COPY {typed} ({names}) FROM STDIN", freeze=False)
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, true), set_config('work_mem', %s, true)",
            [settings.IMPORT_MAINTENANCE_WORK_MEM, settings.IMPORT_WORK_MEM],
        )
        cursor.execute(f"ALTER TABLE {typed} ADD PRIMARY KEY ({pk})")  # duplicate and null keys
        cursor.execute(f"ANALYZE {typed}")  # else the link checks probe the key 10M times: 49 s
        if first_load.any_fails(cursor, first_load.checks(target, columns, missing_links, typed)):
            raise first_load.FirstLoadRefused("some row breaks a check")
        changed = _changed(cursor, target, columns, typed)
        rebuild = bulk_indexes(cursor, target, changed)
        for name, _definition in rebuild:
            cursor.execute(f"DROP INDEX {q(name)}")
        cursor.execute(upsert_sql(target, columns, "upsert", source="_changed s", values=names))
        stored = cursor.rowcount
        for _name, definition in rebuild:
            cursor.execute(definition)
        cursor.execute(f"DROP TABLE {typed}")
    cursor.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
    outcome = Outcome(
        written=rows - changed + stored,
        unchanged=rows - changed,
        skipped_older=changed - stored,
        path="upsert",
    )
    return rows, outcome


def _changed(cursor, target, columns, typed):
    """Fill ``_changed`` with the rows of ``typed`` that are new or differ from the stored row
    in some column of the file; returns how many. One join of the file and the table: a merge
    join of the two keys when both are in key order (``_in_key_order``), else the planner's
    choice (a hash join in ``IMPORT_WORK_MEM``, or probes of the key for a small file)."""
    table, pk = q(target.table), q(target.pk)
    others = [q(c) for c in columns if c != target.pk]
    differs = (
        f" OR ({', '.join(f't.{c}' for c in others)}) IS DISTINCT FROM "
        f"({', '.join(f's.{c}' for c in others)})"
        if others
        else ""
    )
    merge = _in_key_order(cursor, target, typed)
    with first_load.planner_off(cursor, *(["enable_hashjoin"] if merge else [])):
        cursor.execute(
            f"CREATE TEMP TABLE _changed ON COMMIT DROP AS SELECT s.* FROM {typed} s "
            f"LEFT JOIN {table} t ON t.{pk} = s.{pk} WHERE t.{pk} IS NULL{differs}"
        )
        changed = cursor.rowcount  # before the settings are put back
    return changed


def _in_key_order(cursor, target, typed):
    """Whether the file, and the table as far as its statistics tell, are stored about in key
    order (``pg_stats.correlation`` of the key at least ``KEY_ORDER``), as exports and first
    loads usually are (a table whose tenth was updated since is at 0.8). Then a merge join of
    the two key indexes reads both in order: 8.8 s for 10M rows against 15.9 s for the hash
    join the planner prefers (its batches spill to disk)."""
    cursor.execute(
        "SELECT bool_and(correlation >= CASE WHEN tablename = %s THEN %s ELSE %s END) "
        "AND bool_or(tablename = %s) FROM pg_stats WHERE attname = %s AND "
        "tablename IN (%s, %s) AND schemaname = current_schema()",
        [typed, *KEY_ORDER, typed, target.pk, typed, target.table],
    )
    return bool(cursor.fetchone()[0])
