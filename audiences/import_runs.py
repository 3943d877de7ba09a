"""The life of a RecordImport (design 3, 5.2): queued by an upload and run by a worker, or run at
once by ``manage.py import_records``; taken over by the tick when its process dies; its stored
file purged after ``UPLOAD_RETENTION_DAYS``.

Contract:
- Uploaded files go to ``storages["uploads"]`` (``UPLOADS_STORAGE``; by default PostgreSQL,
  ``audiences.storage.DatabaseStorage``), so a worker on any host reads them. A worker streams
  the stored file into the import (the database storage reads on a connection of its own);
  a file it cannot stream that way is copied to a local temporary file first (constant memory).
- **Proof of life**: whoever runs an import holds the session advisory lock
  ``(IMPORT_LIFE, id)`` on a connection of its own (the one that writes progress) from before
  the claim to after the result; it dies with the process (kill -9 included). Its transaction
  dies too, so a dead import has written nothing.
- ``recover_stale() -> int``: a ``running`` import whose lock is free has lost its process: it is
  queued again (attempt + 1, a new job) when it has a stored file and fewer than
  ``MAX_ATTEMPTS`` attempts, else ``failed`` with the reason. A ``queued`` import enqueued more
  than ``RECONCILE_AFTER_SECONDS`` ago whose job is gone from Redis (FLUSHDB, a lost on-commit
  hook) or ended without claiming it is enqueued again. A live import is never touched: its
  lock is held however long it runs.
- ``purge_files() -> int``: deletes the stored files of imports finished more than
  ``UPLOAD_RETENTION_DAYS`` days ago (their counts and rejects stay).
"""

import io
import shutil
import tempfile
import uuid
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import connections, transaction
from django.utils import timezone

from audiences.csv_source import ENCODINGS, Progress
from audiences.imports import ImportFailed, import_csv, rejects_by_row
from audiences.models import ImportStatus, RecordImport, Schema
from audiences.services.records import MISSING_LINKS, MODES, Outcome
from config.access import require
from config.audit import log_change
from config.errors import ValidationFailed

IMPORT_LIFE = 4243  # first key of the proof-of-life lock; the second is the import id
MAX_ATTEMPTS = 3
PURGE_BATCH = 100
S = ImportStatus


def queue_name() -> str:
    return f"{settings.RQ_QUEUE_PREFIX}imports"


def _new_job_id(import_id):
    return f"import-{import_id}-{uuid.uuid4().hex[:12]}"


def check_options(*, mode: str, missing_links: str, encoding: str) -> None:
    """ValidationFailed with every bad option at its path (``mode``, ``missing_links``,
    ``encoding``)."""
    errors = [
        {"path": name, "message": f"must be one of {list(allowed)}"}
        for name, value, allowed in (
            ("mode", mode, MODES),
            ("missing_links", missing_links, MISSING_LINKS),
            ("encoding", encoding, ENCODINGS),
        )
        if value not in allowed
    ]
    if errors:
        raise ValidationFailed(errors)


def start_import(
    *,
    schema: Schema,
    upload: File,
    mode: str = "upsert",
    missing_links: str = "reject",
    encoding: str = "utf-8",
    user,
) -> RecordImport:
    """Store the uploaded file, create the RecordImport (queued) and enqueue it on commit.
    Needs ``audiences.change_records``."""
    require(user, "audiences.change_records", "Importing records")
    options = {"mode": mode, "missing_links": missing_links, "encoding": encoding}
    with transaction.atomic():
        record_import = _create(
            schema,
            user,
            options,
            file=upload,
            original_name=getattr(upload, "name", ""),
            origin="upload",
            total_bytes=upload.size,
            enqueued_at=timezone.now(),
        )
        job_id = _new_job_id(record_import.pk)
        RecordImport.objects.filter(pk=record_import.pk).update(job_id=job_id)
        record_import.job_id = job_id
        _enqueue_on_commit(record_import.pk, job_id)
    return record_import


def _create(schema, user, options, **fields):
    check_options(**options)
    fields["original_name"] = fields["original_name"][:255]
    return RecordImport.objects.create(
        schema=schema,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        **options,
        **fields,
    )


def _enqueue_on_commit(import_id, job_id):
    from audiences.jobs import enqueue_import

    transaction.on_commit(lambda: enqueue_import(import_id, job_id))


class _Life:
    """A connection of the import's own: its proof of life and its progress writes (visible at
    once, outside the import's transaction)."""

    def __init__(self, import_id):
        self.import_id = import_id
        self.db = connections.create_connection("default")

    def take(self):
        """True when this process now holds the import's lock."""
        with self.db.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LIFE, self.import_id])
            return cursor.fetchone()[0]

    def __call__(self, read_bytes, rows):
        with self.db.cursor() as cursor:
            cursor.execute(
                "UPDATE audiences_recordimport SET read_bytes = %s, rows = %s WHERE id = %s",
                [read_bytes, rows, self.import_id],
            )

    def close(self):
        self.db.close()  # ends the session: the lock goes with it


def claim(import_id: int) -> bool:
    """Mark a queued import running; False when it is not queued (already done or taken)."""
    return bool(
        RecordImport.objects.filter(pk=import_id, status=S.QUEUED).update(
            status=S.RUNNING, started_at=timezone.now(), read_bytes=0, rows=0
        )
    )


def run_import(import_id: int) -> None:
    """Run a queued RecordImport to its end (idempotent: does nothing unless it is queued)."""
    life = _Life(import_id)
    try:
        if not life.take() or not claim(import_id):
            return
        record_import = RecordImport.objects.select_related("schema").get(pk=import_id)
        try:
            stored = record_import.file.open("rb")
        except (OSError, ValueError) as exc:  # purged, or a storage that lost it
            _finish(
                record_import, status=S.FAILED, error=f"the uploaded file cannot be read: {exc}"
            )
            return
        with stored:
            if _streams(stored):
                _run(record_import, stored, life)
                return
            with tempfile.TemporaryFile(prefix="import-") as local:
                shutil.copyfileobj(stored, local, 1 << 20)
                local.seek(0)
                _run(record_import, local, life)
    finally:
        life.close()


def _streams(stored):
    """Whether the stored file can feed the import directly: a database-stored file read on a
    connection of its own, or a local file; else (another backend's stream, or chunks visible
    only to this transaction) it is copied to a local temporary file first."""
    if getattr(stored, "streams_beside_transactions", None) is not None:
        return stored.streams_beside_transactions
    return isinstance(getattr(stored, "file", None), io.BufferedReader) and stored.seekable()


def _run(record_import, stream, progress):
    try:
        rows, outcome = import_csv(
            schema=record_import.schema,
            stream=stream,
            mode=record_import.mode,
            missing_links=record_import.missing_links,
            encoding=record_import.encoding,
            progress=progress,
        )
    except Exception as exc:  # any failure ends the import as failed, with its reason
        _finish(record_import, status=S.FAILED, error=_describe(exc))
        if not isinstance(exc, ImportFailed):
            raise
        return None
    _finish(
        record_import,
        status=S.SUCCEEDED,
        rows=rows,
        read_bytes=record_import.total_bytes,
        written=outcome.written,
        unchanged=outcome.unchanged,
        skipped_older=outcome.skipped_older,
        rejected=outcome.rejected,
        rejects=rejects_by_row(outcome),
    )
    return rows, outcome


def run_here(
    *,
    schema: Schema,
    stream: BinaryIO,
    name: str,
    size: int,
    mode: str,
    missing_links: str,
    encoding: str,
    progress: Progress | None = None,
    user=None,
) -> tuple[RecordImport, tuple[int, Outcome] | None]:
    """Run an import in this process (``manage.py import_records``), recorded as a RecordImport
    that is ``running`` from the start under this process's proof of life; returns
    (record_import, (rows, outcome) or None when the file was refused)."""
    options = {"mode": mode, "missing_links": missing_links, "encoding": encoding}
    with transaction.atomic():
        record_import = _create(
            schema,
            user,
            options,
            original_name=name,
            origin="command",
            status=S.RUNNING,
            started_at=timezone.now(),
            total_bytes=size,
        )
        life = _Life(record_import.pk)
        life.take()  # before the row is visible: it is never seen running without its lock

    def both(read_bytes, rows):
        life(read_bytes, rows)
        if progress:
            progress(read_bytes, rows)

    try:
        result = _run(record_import, stream, both)
    finally:
        life.close()
    record_import.refresh_from_db()
    return record_import, result


def _describe(exc):
    return str(exc) if isinstance(exc, ImportFailed) else f"{type(exc).__name__}: {exc}"


def _finish(record_import, **values):
    RecordImport.objects.filter(pk=record_import.pk).update(finished_at=timezone.now(), **values)
    status = values["status"]
    summary = (
        f"{values['written']} written ({values['unchanged']} unchanged), "
        f"{values['skipped_older']} skipped as older, "
        f"{values['rejected']} rejected"
        if status == S.SUCCEEDED
        else values.get("error", "")
    )
    log_change(
        user=record_import.created_by,
        obj=record_import,
        action="add",
        message=f"CSV import ({record_import.origin}, {record_import.mode}) into "
        f"{record_import.schema.name} {status}: {summary}",
    )


# --- Recovery and purge, from the tick ----------------------------------------------------------


def _probe(import_id):
    """A fresh connection holding the import's lock, or None when its process is alive."""
    db = connections.create_connection("default")
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LIFE, import_id])
        if cursor.fetchone()[0]:
            return db
    db.close()
    return None


def _take_over(record_import):
    """Requeue or fail a running import whose process died; returns a job id to enqueue."""
    if record_import.file and record_import.attempt < MAX_ATTEMPTS:
        job_id = _new_job_id(record_import.pk)
        changed = RecordImport.objects.filter(
            pk=record_import.pk, status=S.RUNNING, attempt=record_import.attempt
        ).update(
            status=S.QUEUED,
            attempt=record_import.attempt + 1,
            job_id=job_id,
            enqueued_at=timezone.now(),
            started_at=None,
            read_bytes=0,
            rows=0,
        )
        return job_id if changed else None
    why = "no stored file to resume from" if not record_import.file else "too many attempts"
    RecordImport.objects.filter(pk=record_import.pk, status=S.RUNNING).update(
        status=S.FAILED,
        finished_at=timezone.now(),
        error=f"the process running this import died (attempt {record_import.attempt}; {why}); "
        "nothing was written",
    )
    return None


def _job_alive(job_id):
    import django_rq
    from rq.job import Job, JobStatus

    if not job_id:
        return False
    connection = django_rq.get_connection(queue_name())
    try:
        status = Job.fetch(job_id, connection=connection).get_status()
    except Exception:  # no such job (Redis flushed, expired)
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def recover_stale() -> int:
    """See the module docstring; returns how many imports were requeued or failed."""
    from audiences.jobs import enqueue_import

    touched = 0
    for record_import in RecordImport.objects.filter(status=S.RUNNING).select_related("schema"):
        db = _probe(record_import.pk)
        if db is None:
            continue
        try:
            job_id = _take_over(record_import)
        finally:
            db.close()  # release before the job may start, so its worker can take the lock
        touched += 1
        if job_id:
            enqueue_import(record_import.pk, job_id)
    stale = timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    for record_import in RecordImport.objects.filter(status=S.QUEUED, enqueued_at__lte=stale):
        if _job_alive(record_import.job_id):
            continue
        job_id = _new_job_id(record_import.pk)
        if RecordImport.objects.filter(pk=record_import.pk, status=S.QUEUED).update(
            job_id=job_id, enqueued_at=timezone.now()
        ):
            enqueue_import(record_import.pk, job_id)
            touched += 1
    return touched


def purge_files() -> int:
    """Delete stored files of imports finished before the retention; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.UPLOAD_RETENTION_DAYS)
    done = (
        RecordImport.objects.filter(status__in=(S.SUCCEEDED, S.FAILED), finished_at__lt=cutoff)
        .exclude(file="")
        .order_by("pk")[:PURGE_BATCH]
    )
    purged = 0
    for record_import in done:
        record_import.file.delete(save=False)
        purged += RecordImport.objects.filter(pk=record_import.pk).update(file="")
    return purged


def rows_per_second(record_import: RecordImport) -> int | None:
    if not record_import.started_at or not record_import.rows:
        return None
    end = record_import.finished_at or timezone.now()
    seconds = (end - record_import.started_at).total_seconds()
    return round(record_import.rows / seconds) if seconds > 0 else None
