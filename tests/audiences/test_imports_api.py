"""CSV uploads through the API (design 5.2): 202, the job, progress, rejects as CSV; and one test
with a real rqworker process."""

import os
import subprocess
import sys
import time

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from audiences import dynamic
from audiences.import_runs import queue_name, run_import
from audiences.models import RecordImport
from tests.audiences.test_records_support import define, drop_data_tables
from tests.conftest import RECORD_PERMISSIONS, grant

GOOD_AND_BAD = b"customer_id,loyalty_points,country\nc1,1,FR\nc2,x,FR\nc3,3,XX\nc4,4,DE\n"


@pytest.fixture
def data_tables():
    drop_data_tables()
    yield
    drop_data_tables()


@pytest.fixture
def api(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = APIClient()
    client.force_authenticate(
        grant(User.objects.create_user("staff", is_staff=True), *RECORD_PERMISSIONS)
    )
    return client


def upload(api, content, **fields):
    data = {"file": SimpleUploadedFile("customers.csv", content, "text/csv"), **fields}
    return api.post("/api/schemas/customer/imports/", data, format="multipart")


@pytest.mark.django_db
def test_upload_queues_then_the_job_imports_and_rejects_download_as_csv(
    api, django_capture_on_commit_callbacks
):
    define()
    django_rq.get_queue(queue_name()).empty()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(api, GOOD_AND_BAD)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["percent"] == 0.0
    assert callbacks and django_rq.get_queue(queue_name()).count == 1

    run_import(body["id"])
    run_import(body["id"])  # a second wake-up does nothing
    body = api.get(f"/api/schemas/customer/imports/{body['id']}/").json()
    assert {k: body[k] for k in ("status", "rows", "written", "rejected", "percent")} == {
        "status": "succeeded",
        "rows": 4,
        "written": 2,
        "rejected": 2,
        "percent": 100.0,
    }
    response = api.get(f"/api/schemas/customer/imports/{body['id']}/rejects/")
    assert response["Content-Type"] == "text/csv"
    assert response.content.decode().splitlines() == [
        "row,message",
        "2,loyalty_points: not an integer",
        '3,"country: not one of: FR, DE, US"',
    ]
    assert sorted(dynamic.get_model("customer").objects.values_list("pk", flat=True)) == [
        "c1",
        "c4",
    ]


@pytest.mark.django_db
def test_a_refused_file_ends_failed_with_its_reason(api):
    define()
    response = upload(api, b"customer_id,colour\nc1,red\n")
    run_import(response.json()["id"])
    body = api.get(f"/api/schemas/customer/imports/{response.json()['id']}/").json()
    assert body["status"] == "failed" and "unknown columns: colour" in body["error"]


@pytest.mark.django_db
def test_bad_upload_options_get_400(api):
    define()
    response = upload(api, GOOD_AND_BAD, mode="merge", missing_links="maybe")
    assert {e["path"] for e in response.json()["errors"]} == {"mode", "missing_links"}
    response = api.post("/api/schemas/customer/imports/", {}, format="multipart")
    assert response.json()["errors"][0]["path"] == "file"


@pytest.mark.workers
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_the_uploaded_import(api, data_tables):
    define()
    django_rq.get_queue(queue_name()).empty()
    import_id = upload(api, GOOD_AND_BAD).json()["id"]
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{connection.settings_dict['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "rqworker",
            queue_name(),
            "--burst",
            "--worker-class",
            "rq.worker.SimpleWorker",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    deadline = time.monotonic() + 10
    while RecordImport.objects.get(pk=import_id).status != "succeeded":
        assert time.monotonic() < deadline, RecordImport.objects.get(pk=import_id).error
        time.sleep(0.1)
    assert dynamic.get_model("customer").objects.count() == 2
