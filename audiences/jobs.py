"""RQ jobs of the audiences app. A job is a wake-up call: it re-reads its state in PostgreSQL and
does nothing when there is nothing to do (design 3)."""

import django_rq
from django.db import close_old_connections

from audiences import dynamic, import_runs

IMPORT_TIMEOUT = 6 * 3600


def run_import(import_id: int) -> None:
    """Run RecordImport ``import_id`` if it is still queued (idempotent)."""
    close_old_connections()
    try:
        dynamic.ensure_current()
        import_runs.run_import(import_id)
    finally:
        close_old_connections()


def enqueue_import(import_id: int, job_id: str | None = None):
    """Enqueue the import job as ``job_id`` (call through ``transaction.on_commit``)."""
    queue = django_rq.get_queue(import_runs.queue_name())
    return queue.enqueue(run_import, import_id, job_id=job_id, job_timeout=IMPORT_TIMEOUT)
