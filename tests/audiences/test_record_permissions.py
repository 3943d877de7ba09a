"""Records, imports, counts and previews are under the named permissions of design 9, through the
API and the admin, for real non-superuser staff: ``view_records`` for anything that shows
personal data, ``change_records`` for writes and imports, ``count_audience`` for counts and
distributions; the job queues dashboard needs ``campaigns.view_job_queues``."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.audiences.test_records_support import define
from tests.conftest import staff_with as staff
from tests.conftest import token_client as api

pytestmark = pytest.mark.django_db

RULE = {"schema": "customer", "where": {"field": "country", "op": "eq", "value": "FR"}}
ONE = {"records": [{"customer_id": "c1", "loyalty_points": 1, "country": "FR"}]}


def csv_upload():
    return SimpleUploadedFile("c.csv", b"customer_id,loyalty_points\nc9,3\n", "text/csv")


# (permission, method, path, body, format)
CASES = [
    ("audiences.view_records", "get", "/api/schemas/customer/records/", None, None),
    ("audiences.change_records", "post", "/api/schemas/customer/records/", ONE, "json"),
    ("audiences.change_records", "post", "/api/schemas/customer/imports/", "csv", "multipart"),
    ("audiences.count_audience", "post", "/api/audiences/count/", RULE, "json"),
    (
        "audiences.count_audience",
        "post",
        "/api/audiences/distribution/",
        {**RULE, "field": "country"},
        "json",
    ),
    ("audiences.view_records", "post", "/api/audiences/preview/", RULE, "json"),
]


def call(client, method, path, body, fmt):
    if body == "csv":
        return client.post(path, {"file": csv_upload()}, format=fmt)
    return getattr(client, method)(path, body, format=fmt)


@pytest.mark.parametrize(("perm", "method", "path", "body", "fmt"), CASES)
def test_api_needs_the_named_permission(perm, method, path, body, fmt):
    define()
    everything = ["audiences.view_records", "audiences.change_records", "audiences.count_audience"]
    others = [p for p in everything if p != perm]
    refused = call(api(staff(*others, name="refused")), method, path, body, fmt)
    assert refused.status_code == 403, refused.content
    assert refused.json()["detail"].endswith(f"needs {perm}")
    allowed = call(api(staff(*everything, name="allowed")), method, path, body, fmt)
    assert allowed.status_code in (200, 202), allowed.content


def test_records_are_not_written_without_change_records():
    from audiences import dynamic

    define()
    call(api(staff("audiences.view_records")), "post", CASES[1][2], ONE, "json")
    assert not dynamic.get_model("customer").objects.exists()


def test_admin_data_browser_and_upload_need_their_permissions(client):
    define()
    viewer = staff("audiences.view_recordimport", name="viewer")
    client.force_login(viewer)
    records = reverse("admin:audiences_data_records", args=["customer"])
    upload = reverse("admin:audiences_data_import", args=["customer"])
    assert client.get(records).status_code == 403
    assert client.get(upload).status_code == 403
    reader = staff("audiences.view_recordimport", "audiences.view_records", name="reader")
    client.force_login(reader)
    assert client.get(records).status_code == 200
    assert client.get(upload).status_code == 403
    writer = staff("audiences.view_recordimport", "audiences.change_records", name="writer")
    client.force_login(writer)
    assert client.get(upload).status_code == 200


def test_the_job_queues_dashboard_needs_its_permission(client):
    client.force_login(staff(name="plain"))
    assert client.get("/admin/django-rq/").status_code == 403
    assert "Job queues" not in client.get("/admin/").text
    client.force_login(staff("campaigns.view_job_queues", name="operator"))
    assert client.get("/admin/django-rq/").status_code == 200
    assert "Job queues" in client.get("/admin/").text
