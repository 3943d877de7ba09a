"""The admin data browser, record page, upload page with progress, import history and rejects."""

import django_rq
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from audiences.import_runs import queue_name, run_import
from audiences.models import RecordImport
from tests.audiences.test_records_support import define

PREFIX = "/admin/audiences/recordimport"


@pytest.fixture
def staff(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    define()
    client.force_login(User.objects.create_superuser("boss", "boss@x.org", "pw"))
    return client


def _upload(staff, content):
    django_rq.get_queue(queue_name()).empty()
    return staff.post(
        f"{PREFIX}/data/customer/import/",
        {"file": SimpleUploadedFile("c.csv", content), "mode": "upsert", "missing_links": "reject"},
    )


@pytest.mark.django_db
def test_upload_progress_browse_record_and_history(staff):
    staff.post(
        "/api/schemas/store/records/",
        {"records": [{"store_id": "s1", "city": "Paris"}]},
        content_type="application/json",
    )
    response = _upload(
        staff,
        b"customer_id,loyalty_points,store_id,email\nc1,1,s1,a@x.org\nc2,x,s1,\nc3,3,s1,b@y.org\n",
    )
    import_id = RecordImport.objects.get().pk
    assert response.status_code == 302 and response.url.endswith(f"/{import_id}/progress/")
    page = staff.get(response.url).content.decode()
    assert f"/api/schemas/customer/imports/{import_id}/" in page and "<progress" in page
    run_import(import_id)

    listing = staff.get(f"{PREFIX}/data/customer/").content.decode()
    assert "2 records" in listing and "c1" in listing and "c3" in listing
    assert "1 record." in staff.get(f"{PREFIX}/data/customer/?q=y.org").content.decode()
    filtered = staff.get(f"{PREFIX}/data/customer/", {"f.email": "a@x.org"}).content.decode()
    assert "1 record matching email = a@x.org" in filtered

    record = staff.get(f"{PREFIX}/data/customer/record/c1/").content.decode()
    assert "store s1" in record
    store = staff.get(f"{PREFIX}/data/store/record/s1/").content.decode()
    assert "2 customer records" in store

    history = staff.get(f"{PREFIX}/").content.decode()
    assert "c.csv" in history and "1 rows (CSV)" in history
    rejects = staff.get(f"{PREFIX}/{import_id}/rejects/").content.decode()
    assert rejects.splitlines() == ["row,message", "2,loyalty_points: not an integer"]


@pytest.mark.django_db
def test_data_index_and_unknown_schema(staff):
    assert "customer" in staff.get(f"{PREFIX}/data/").content.decode()
    assert staff.get(f"{PREFIX}/data/nothing/").status_code == 404
    assert staff.get(f"{PREFIX}/data/customer/record/none/").status_code == 404
