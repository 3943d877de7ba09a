"""Imports that recover (issue 9) and uploaded files every host reads (issue 10), with real
processes: an rqworker on the imports queue and the tick (``campaigns_tick``), started as in
tests/campaigns/conftest.py; a worker killed with SIGKILL, a FLUSHDB, a worker with another,
empty MEDIA_ROOT, a command killed mid-import; the purge of stored files; the storage itself."""

import io
import os
import signal
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from audiences import dynamic, imports, storage
from audiences.import_runs import queue_name
from audiences.models import RecordImport, Schema, StoredFile
from audiences.services.records import IMPORT_LOCK
from tests.audiences.test_records_support import define, drop_data_tables
from tests.campaigns.conftest import ROOT, Engine, wait_for

CSV = b"customer_id,loyalty_points\nc1,1\nc2,2\nc3,3\n"


class ImportWorkers(Engine):
    """Real processes on this test's imports queue."""

    def __init__(self, media_root):
        super().__init__()
        self.queue_name = queue_name()
        self.env["MEDIA_ROOT"] = str(media_root)
        self.env["UPLOADS_STORAGE"] = "audiences.storage.DatabaseStorage"

    def worker(self):
        """A forking rqworker on the imports queue, as ``make run`` starts it."""
        return self.start("rqworker", self.queue_name, "--with-scheduler")


@pytest.fixture
def workers(transactional_db, tmp_path):
    drop_data_tables()
    (tmp_path / "worker-media").mkdir()
    engine = ImportWorkers(tmp_path / "worker-media")
    engine.flush_redis()
    yield engine
    engine.stop()
    engine.flush_redis()
    drop_data_tables()


@pytest.fixture
def web_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "web-media"
    return settings.MEDIA_ROOT


def _dsn():
    db = connection.settings_dict
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


class SchemaLock:
    """Holds the schema's writer lock from outside, so an import blocks in the middle."""

    def __init__(self, schema):
        self.conn = psycopg.connect(_dsn(), autocommit=True)
        self.conn.execute("SELECT pg_advisory_lock(%s, %s)", (IMPORT_LOCK, schema.pk))

    def release(self):
        self.conn.close()


def upload(api_client, content=CSV):
    data = {"file": SimpleUploadedFile("customers.csv", content, "text/csv")}
    response = api_client.post("/api/schemas/customer/imports/", data, format="multipart")
    assert response.status_code == 202, response.content
    return RecordImport.objects.get(pk=response.json()["id"])


def status(record_import):
    return RecordImport.objects.get(pk=record_import.pk)


@pytest.mark.workers
def test_a_killed_worker_s_import_is_resumed_and_a_live_one_left_alone(
    workers, api_client, web_media
):
    define()
    lock = SchemaLock(Schema.objects.get(name="customer"))
    try:
        record_import = upload(api_client)
        worker = workers.worker()
        workers.tick()
        wait_for(lambda: status(record_import).status == "running", timeout=30)
        # longer than RECONCILE_AFTER_SECONDS (3 s) with ticks every second: still its own
        wait_for(lambda: timezone.now() - status(record_import).started_at > timedelta(seconds=6))
        assert (status(record_import).status, status(record_import).attempt) == ("running", 1)
        workers.kill(worker)
        wait_for(lambda: status(record_import).attempt == 2, timeout=30)
    finally:
        lock.release()
    workers.worker()
    done = wait_for(lambda: (r := status(record_import)).status == "succeeded" and r, timeout=60)
    assert (done.attempt, done.written) == (2, 3)
    assert dynamic.get_model("customer").objects.count() == 3


@pytest.mark.workers
def test_an_import_queued_when_redis_was_flushed_is_enqueued_again(workers, api_client, web_media):
    define()
    record_import = upload(api_client)
    first_job = status(record_import).job_id
    assert django_rq_count() == 1
    workers.flush_redis()
    workers.tick()
    workers.worker()
    done = wait_for(lambda: (r := status(record_import)).status == "succeeded" and r, timeout=60)
    assert done.job_id != first_job and done.attempt == 1 and done.written == 3


def django_rq_count():
    import django_rq

    return django_rq.get_queue(queue_name()).count


@pytest.mark.workers
def test_a_worker_with_another_empty_media_root_reads_the_uploaded_file(
    workers, api_client, web_media
):
    define()
    record_import = upload(api_client, b"customer_id,loyalty_points\nc1,1\nc2,x\n")
    assert StoredFile.objects.filter(name=record_import.file.name).exists()
    assert not web_media.exists() or not any(web_media.rglob("*.csv"))
    workers.worker()
    done = wait_for(lambda: (r := status(record_import)).status == "succeeded" and r, timeout=60)
    assert (done.written, done.rejected) == (1, 1)
    assert done.rejects == [{"row": 2, "message": "loyalty_points: not an integer"}]


@pytest.mark.workers
def test_a_command_killed_mid_import_is_marked_failed_by_the_tick(workers, tmp_path):
    define()
    path = tmp_path / "c.csv"
    path.write_bytes(CSV)
    lock = SchemaLock(Schema.objects.get(name="customer"))
    try:
        command = subprocess.Popen(
            [sys.executable, "manage.py", "import_records", "customer", str(path)],
            cwd=ROOT,
            env=workers.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        workers.processes.append(command)
        running = wait_for(lambda: RecordImport.objects.filter(status="running").first())
        workers.tick()
        os.killpg(command.pid, signal.SIGKILL)
        command.wait(timeout=10)
        failed = wait_for(lambda: (r := status(running)).status == "failed" and r, timeout=30)
    finally:
        lock.release()
    assert "died" in failed.error and "nothing was written" in failed.error
    assert dynamic.get_model("customer").objects.count() == 0


@pytest.mark.django_db
def test_stored_files_of_finished_imports_are_purged_after_the_retention(
    api_client, settings, web_media
):
    define()
    settings.UPLOAD_RETENTION_DAYS = 7
    old, recent = upload(api_client), upload(api_client)
    RecordImport.objects.filter(pk=old.pk).update(
        status="succeeded", finished_at=timezone.now() - timedelta(days=8), rejected=1
    )
    RecordImport.objects.filter(pk=recent.pk).update(
        status="succeeded", finished_at=timezone.now() - timedelta(days=6)
    )
    assert imports.reconcile() == 1  # the tick's call: nothing to recover, one file purged
    assert status(old).file.name == "" and status(old).rejected == 1
    assert not StoredFile.objects.filter(name=old.file.name).exists()
    assert StoredFile.objects.filter(name=recent.file.name).exists()


@pytest.mark.django_db
def test_the_database_storage_streams_chunks_both_ways(monkeypatch):
    monkeypatch.setattr(storage, "CHUNK", 7)
    files = storage.DatabaseStorage()
    content = b"line one\nline two\n" * 5 + b"end"
    name = files.save("imports/a.csv", ContentFile(content))
    again = files.save("imports/a.csv", io.BytesIO(content))
    assert again != name and files.exists(name) and files.size(name) == len(content)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM audiences_filechunk c JOIN audiences_storedfile f "
            "ON f.id = c.file_id WHERE f.name IN (%s, %s)",
            [name, again],
        )
        assert cursor.fetchone()[0] == 2 * -(-len(content) // 7)
    with files.open(name) as stored:
        assert stored.readline() == b"line one\n"
        assert stored.read() == content[9:]
        stored.seek(0)
        assert stored.read(12) == content[:12]
    assert files.listdir("imports") == ([], sorted([name, again][i].split("/")[1] for i in (0, 1)))
    files.delete(name)
    assert not files.exists(name) and files.exists(again)
    with pytest.raises(FileNotFoundError):
        files.open(name)


@pytest.mark.django_db
def test_an_import_whose_file_is_gone_fails_saying_so(api_client, web_media):
    from audiences.import_runs import run_import

    define()
    record_import = upload(api_client)
    StoredFile.objects.filter(name=record_import.file.name).delete()
    run_import(record_import.pk)
    failed = status(record_import)
    assert failed.status == "failed" and "cannot be read" in failed.error
