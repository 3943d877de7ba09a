"""CSV imports into a schema (design 5.2): REST upload, admin upload, ``manage.py import_records``
and ``seed_demo`` all end in ``import_csv``.

Contract of ``import_csv``:
- The header names attributes (a link's value under its ``via``), plus an optional
  ``_change_request_type`` column (``u`` upsert, ``d`` delete; empty = the import's mode). An unknown,
  duplicated or missing key/required column fails the whole import with a message naming them.
- ``encoding``: ``utf-8`` (default, a BOM is skipped), ``latin-1`` or ``cp1252``. A file that is
  not in its encoding fails whole, naming the encoding, the byte offset and the line.
- **First load** (the table is empty, no ``_change_request_type``, mode upsert or insert): the
  file is written once, by ``audiences.services.first_load`` (``COPY ... FREEZE`` into the typed
  table, checks in one scan, keys and indexes built after). When a value or a check fails there,
  it is undone and the file goes through the staging path below, so rejects stay exact.
- **Typed upsert** (the table is not empty, mode upsert, no ``_change_request_type``): the file
  is copied into an unlogged typed table of its own and checked there, and only its new and
  changed rows are written (``audiences.services.typed_upsert``); ``unchanged`` counts the rows
  that already were stored as the file says. The same fallback to staging applies.
- **Staging path**: the file is streamed (constant memory) into ``COPY _stage FROM STDIN``, then
  validated and written by ``audiences.services.records`` in one transaction: bad rows become
  rejects numbered from 1 (the first data row), never a half-written import. A malformed CSV
  line (extra or missing fields, an unterminated quote, an empty line) is a reject of its row
  (``audiences.csv_source.stage_repaired``); the other rows are imported.
- Writers of one schema are serialized by the schema's advisory lock.
- Progress (bytes and lines read) goes to ``progress(read_bytes, rows)`` about once a second.

The life of a RecordImport (queue, run, recovery, purge) is in ``audiences.import_runs``; its
public functions are re-exported here.
"""

from typing import BinaryIO

import psycopg
from django.db import DatabaseError, connection, transaction

from audiences.csv_source import (
    ENCODING_SQLSTATES,
    ENCODINGS,
    MALFORMED_SQLSTATE,
    ImportFailed,
    Progress,
    copy_options,
    read_header,
    stage_repaired,
    stream_into,
    undecodable,
)
from audiences.models import Schema
from audiences.services.first_load import FirstLoadRefused, first_load
from audiences.services.records import (
    MAX_KEPT_REJECTS,
    OP_COLUMN,
    Outcome,
    Target,
    create_stage,
    lock_schema,
    q,
    write_staged,
)
from audiences.services.typed_upsert import typed_upsert

__all__ = [
    "ENCODINGS",
    "ImportFailed",
    "check_header",
    "import_csv",
    "reconcile",
    "recover_stale",
    "rejects_by_row",
]


def check_header(target: Target, names: list[str], mode: str) -> list[str]:
    """The staged attribute columns, or ImportFailed naming what is wrong with the header."""
    problems = []
    if not names or names == [""]:
        raise ImportFailed("the file is empty: the first line must name the columns")
    unknown = [n for n in names if n not in target.attributes and n != OP_COLUMN]
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(f"columns named twice: {', '.join(twice)}")
    needed = [target.pk]
    if mode != "delete":
        needed += [n for n, a in target.attributes.items() if a.required and n != target.pk]
    missing = [n for n in needed if n not in names]
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    if problems:
        known = ", ".join(target.attributes)
        raise ImportFailed("; ".join(problems) + f" (the attributes are: {known})")
    return [n for n in names if n != OP_COLUMN]


def _sqlstate(exc):
    return getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)


def _copy_error(exc):
    diag = exc.diag
    context = (diag.context or "").replace("COPY _stage, line", "CSV data row")
    return f"{diag.message_primary} ({context.splitlines()[0] if context else 'while reading'})"


class _File:
    """The stream of one import, rewound (past its header) for a second pass."""

    def __init__(self, stream, encoding, progress):
        self.stream, self.encoding, self.progress = stream, encoding, progress
        self.malformed = self.first_load = False
        self.names, self.read = read_header(stream, encoding)

    def rewind(self):
        self.stream.seek(0)
        self.names, self.read = read_header(self.stream, self.encoding)

    def copy(self, cursor, head, freeze=False):
        """``COPY <head> (options)`` with the rest of the file; returns the rows copied."""
        options = ("FREEZE, " if freeze else "") + copy_options(self.encoding)
        self.read = stream_into(
            cursor, f"{head} ({options})", self.stream, self.read, self.progress
        )
        return cursor.rowcount

    def failed(self, exc):
        """The ImportFailed for a PostgreSQL error of the COPY, or None when the rows are
        merely malformed."""
        state = _sqlstate(exc)
        cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
        if state in ENCODING_SQLSTATES:
            return undecodable(self.stream, self.encoding, cause)
        if state == MALFORMED_SQLSTATE:
            return None
        return ImportFailed(_copy_error(cause)) if cause is not None else ImportFailed(str(exc))


def _looks_empty(target):
    """Whether the table is empty now; asked before the import's transaction, so that its
    share lock is not held while waiting for the schema's writer lock (a deadlock with another
    first load). ``first_load`` asks again under its own lock."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {q(target.table)})")
        return cursor.fetchone()[0]


def _written_once(cursor, file, target, columns, mode, missing_links):
    """(rows, Outcome) of a first load (into the empty table) or a typed upsert (into a
    populated one), or None: neither applies, or the file was refused (then ``file`` is rewound
    and ``file.malformed`` tells whether PostgreSQL refused a line)."""
    if file.first_load:
        write = first_load
    elif mode == "upsert" and OP_COLUMN not in file.names:
        write = typed_upsert
    else:
        return None
    lock_schema(cursor, target.schema)
    try:
        return write(  # a first load finds the table not empty any more: None
            cursor,
            target,
            columns,
            lambda head, freeze: file.copy(cursor, head, freeze),
            missing_links,
        )
    except FirstLoadRefused as exc:
        if exc.encoding is not None:
            raise undecodable(file.stream, file.encoding, exc.encoding) from None
        file.malformed = exc.malformed
        file.rewind()
        return None


def _stage(cursor, file, columns):
    """Fill ``_stage`` with the file; returns the rows (malformed lines are rejects)."""
    names = ", ".join("_op" if n == OP_COLUMN else q(n) for n in file.names)
    if not file.malformed:
        cursor.execute("SAVEPOINT audiences_stage")
        try:
            rows = file.copy(cursor, f"COPY _stage ({names}) FROM STDIN")
        except (psycopg.Error, DatabaseError) as exc:
            cursor.execute("ROLLBACK TO SAVEPOINT audiences_stage")
            failure = file.failed(exc)
            if failure is not None:
                raise failure from None
            file.rewind()
        else:
            cursor.execute("RELEASE SAVEPOINT audiences_stage")
            return rows
    try:
        rows, file.read = stage_repaired(
            cursor,
            file.stream,
            file.names,
            encoding=file.encoding,
            progress=file.progress,
            read=file.read,
        )
    except psycopg.Error as exc:
        raise file.failed(exc) or ImportFailed(
            f"{_copy_error(exc).replace('COPY _lines, line', 'data row')}: a line holds the byte "
            "0x01 or 0x02, which the recovery of malformed lines cannot read"
        ) from None
    return rows


def import_csv(
    *,
    schema: Schema,
    stream: BinaryIO,
    mode: str = "upsert",
    missing_links: str = "reject",
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> tuple[int, Outcome]:
    """Import the CSV ``stream`` (binary, seekable) into ``schema``; returns (rows, Outcome).

    Raises ImportFailed for a file refused whole. Runs in its own transaction."""
    if encoding not in ENCODINGS:
        raise ImportFailed(f"unknown encoding {encoding!r}: one of {', '.join(ENCODINGS)}")
    target = Target(schema)
    file = _File(stream, encoding, progress)
    columns = check_header(target, file.names, mode)
    file.first_load = mode != "delete" and OP_COLUMN not in file.names and _looks_empty(target)
    with transaction.atomic(), connection.cursor() as cursor:
        once = _written_once(cursor, file, target, columns, mode, missing_links)
        if once is not None:
            if progress:
                progress(file.read, once[0])
            return once
        create_stage(cursor, columns, op="d" if mode == "delete" else "u")
        rows = _stage(cursor, file, columns)
        if progress:
            progress(file.read, rows)
        if OP_COLUMN in file.names:
            default = "d" if mode == "delete" else "u"
            cursor.execute(
                "UPDATE _stage SET _op = COALESCE(NULLIF(lower(btrim(_op)), ''), %s)", [default]
            )
        outcome = write_staged(
            cursor,
            target=target,
            columns=columns,
            mode="insert" if mode == "insert" else "upsert",
            missing_links=missing_links,
            staged_rows=rows,
            ops=OP_COLUMN in file.names or mode == "delete",
        )
    return rows, outcome


def rejects_by_row(outcome: Outcome) -> list[dict]:
    """[{"row", "message"}] with every problem of a row in one message (a malformed line's
    message stands alone)."""
    rows = {}
    for row, column, message in outcome.rejects[:MAX_KEPT_REJECTS]:
        name = OP_COLUMN if column == "_op" else column
        rows.setdefault(row, []).append(f"{name}: {message}" if name else message)
    return [{"row": row, "message": "; ".join(messages)} for row, messages in rows.items()]


def recover_stale() -> int:
    """Fail or requeue imports whose process died or whose job was lost (``import_runs``)."""
    from audiences.import_runs import recover_stale as recover

    return recover()


def reconcile() -> int:
    """The periodic work of imports, for the tick: ``recover_stale()`` plus the purge of stored
    files past ``UPLOAD_RETENTION_DAYS``; returns how many imports it touched."""
    from audiences.import_runs import purge_files

    return recover_stale() + purge_files()
