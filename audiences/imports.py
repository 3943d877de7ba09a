"""CSV imports into a schema (design 5.2): REST upload, admin upload and ``manage.py import_records``
all end in ``import_csv``.

Contract:
- The header names attributes (a link's value under its ``via``), plus an optional
  ``_change_request_type`` column (``u`` upsert, ``d`` delete; empty = the import's mode). An unknown,
  duplicated or missing key/required column fails the whole import with a message naming them.
- The file is streamed in chunks (constant memory) into ``COPY _stage FROM STDIN (FORMAT csv)``,
  then validated and written by ``audiences.services.records`` in one transaction: bad rows become
  rejects numbered from 1 (the first data row), never a half-written import. A malformed CSV line
  (wrong number of fields, bad encoding) fails the import naming the row.
- Two imports into one schema are serialized by the schema's advisory lock (taken after staging).
- Progress (bytes and rows read) goes to ``progress(read_bytes, rows)`` about once a second; for a
  RecordImport it is written by a separate connection, so the admin and the API see it live.
"""

import csv
import io
import time

import psycopg
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from audiences.models import ImportStatus, RecordImport
from audiences.services.records import (
    MAX_KEPT_REJECTS,
    MISSING_LINKS,
    MODES,
    OP_COLUMN,
    Target,
    create_stage,
    q,
    write_staged,
)
from config.access import require
from config.errors import ValidationFailed

CHUNK = 1 << 20
PROGRESS_SECONDS = 1.0


class ImportFailed(Exception):
    """The whole file is refused (bad header, malformed CSV): nothing was written."""


def read_header(stream):
    """The column names of the first line (UTF-8, an optional BOM); returns (names, bytes read)."""
    line = stream.readline()
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed("the header is not UTF-8") from None
    names = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in names], len(line)


def check_header(target, names, mode):
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


def _copy_file(cursor, stream, names, read, progress):
    """Stream the rest of the file into ``_stage``; returns (rows, bytes read)."""
    columns = ", ".join("_op" if n == OP_COLUMN else q(n) for n in names)
    rows, last = 0, time.monotonic()
    with cursor.cursor.copy(f"COPY _stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
        while chunk := stream.read(CHUNK):
            copy.write(chunk)
            read += len(chunk)
            rows += chunk.count(b"\n")
            if progress and time.monotonic() - last >= PROGRESS_SECONDS:
                progress(read, rows)
                last = time.monotonic()
    return cursor.rowcount, read


def _copy_error(exc):
    diag = exc.diag
    context = (diag.context or "").replace("COPY _stage, line", "CSV data row")
    return f"{diag.message_primary} ({context.splitlines()[0] if context else 'while reading'})"


def import_csv(*, schema, stream, mode="upsert", missing_links="reject", progress=None):
    """Import the CSV ``stream`` (binary) into ``schema``; returns (rows, Outcome).

    Raises ImportFailed for a file refused whole. Runs in its own transaction."""
    target = Target(schema)
    names, read = read_header(stream)
    columns = check_header(target, names, mode)
    with transaction.atomic(), connection.cursor() as cursor:
        create_stage(cursor, columns, op="d" if mode == "delete" else "u")
        try:
            rows, read = _copy_file(cursor, stream, names, read, progress)
        except psycopg.Error as exc:
            raise ImportFailed(_copy_error(exc)) from exc
        if progress:
            progress(read, rows)
        if OP_COLUMN in names:
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
            ops=OP_COLUMN in names or mode == "delete",
        )
    return rows, outcome


def rejects_by_row(outcome):
    """[{"row", "message"}] with every problem of a row in one message."""
    rows = {}
    for row, column, message in outcome.rejects[:MAX_KEPT_REJECTS]:
        name = OP_COLUMN if column == "_op" else column
        rows.setdefault(row, []).append(f"{name}: {message}")
    return [{"row": row, "message": "; ".join(messages)} for row, messages in rows.items()]


def rows_per_second(record_import):
    if not record_import.started_at or not record_import.rows:
        return None
    end = record_import.finished_at or timezone.now()
    seconds = (end - record_import.started_at).total_seconds()
    return round(record_import.rows / seconds) if seconds > 0 else None


def start_import(*, schema, upload, user, mode="upsert", missing_links="reject"):
    """Keep the uploaded file, create the RecordImport (queued) and enqueue it on commit.
    Needs ``audiences.change_records``."""
    require(user, "audiences.change_records", "Importing records")
    errors = []
    if mode not in MODES:
        errors.append({"path": "mode", "message": f"must be one of {list(MODES)}"})
    if missing_links not in MISSING_LINKS:
        errors.append({"path": "missing_links", "message": f"must be one of {list(MISSING_LINKS)}"})
    if errors:
        raise ValidationFailed(errors)
    record_import = RecordImport.objects.create(
        schema=schema,
        file=upload,
        original_name=getattr(upload, "name", "")[:255],
        mode=mode,
        missing_links=missing_links,
        total_bytes=upload.size,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    from audiences.jobs import enqueue_import

    transaction.on_commit(lambda: enqueue_import(record_import.pk))
    return record_import


class _ProgressWriter:
    """Writes an import's progress through its own autocommit connection, visible at once."""

    def __init__(self, import_id):
        self.import_id = import_id
        self.db = connections.create_connection("default")

    def __call__(self, read_bytes, rows):
        with self.db.cursor() as cursor:
            cursor.execute(
                "UPDATE audiences_recordimport SET read_bytes = %s, rows = %s WHERE id = %s",
                [read_bytes, rows, self.import_id],
            )

    def close(self):
        self.db.close()


def claim(import_id):
    """Mark a queued import running; False when it is not queued (already done or taken)."""
    return bool(
        RecordImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.RUNNING, started_at=timezone.now()
        )
    )


def run_import(import_id):
    """Run a queued RecordImport to its end (idempotent: does nothing unless it is queued)."""
    if not claim(import_id):
        return
    record_import = RecordImport.objects.select_related("schema").get(pk=import_id)
    progress = _ProgressWriter(import_id)
    try:
        with record_import.file.open("rb") as stream:
            rows, outcome = import_csv(
                schema=record_import.schema,
                stream=stream,
                mode=record_import.mode,
                missing_links=record_import.missing_links,
                progress=progress,
            )
    except Exception as exc:  # any failure ends the import as failed, with its reason
        _finish(import_id, status=ImportStatus.FAILED, error=_describe(exc))
        if not isinstance(exc, ImportFailed):
            raise
        return
    finally:
        progress.close()
    _finish(
        import_id,
        status=ImportStatus.SUCCEEDED,
        rows=rows,
        read_bytes=record_import.total_bytes,
        written=outcome.written,
        skipped_older=outcome.skipped_older,
        rejected=outcome.rejected,
        rejects=rejects_by_row(outcome),
    )


def _describe(exc):
    return str(exc) if isinstance(exc, ImportFailed) else f"{type(exc).__name__}: {exc}"


def _finish(import_id, **values):
    RecordImport.objects.filter(pk=import_id).update(finished_at=timezone.now(), **values)


def queue_name():
    return f"{settings.RQ_QUEUE_PREFIX}imports"
