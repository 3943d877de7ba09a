"""The records API (design 5.2): bulk upsert, insert, delete; atomic or not; missing links."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from audiences import dynamic
from tests.audiences.test_records_support import define
from tests.conftest import RECORD_PERMISSIONS, grant

URL = "/api/schemas/{}/records/"


@pytest.fixture
def api(db):
    define()
    client = APIClient()
    client.force_authenticate(
        grant(User.objects.create_user("staff", is_staff=True), *RECORD_PERMISSIONS)
    )
    return client


def post(api, schema, **document):
    return api.post(URL.format(schema), document, format="json")


def customer(key, **values):
    return {"customer_id": key, "loyalty_points": 1, **values}


def test_upsert_insert_read_back_and_delete(api):
    assert post(api, "store", records=[{"store_id": "s1", "city": "Paris"}]).json() == {
        "written": 1,
        "skipped_older": 0,
    }
    records = [
        customer(
            "c1",
            email="a@x.org",
            country="FR",
            birth_date="1990-02-28",
            balance="12.5",
            score=1.5,
            vip=True,
            store_id="s1",
            updated_at="2026-01-01T10:00:00Z",
        ),
        customer("c2", loyalty_points=7, balance=3, vip="no"),
    ]
    assert post(api, "customer", records=records).json()["written"] == 2
    rows = api.get(URL.format("customer")).json()
    assert rows["count"] == 2
    first = rows["results"][0]
    assert first["customer_id"] == "c1" and first["store_id"] == "s1"
    assert first["balance"] == "12.50" and first["vip"] is True
    assert first["birth_date"] == "1990-02-28"
    assert rows["results"][1]["vip"] is False

    response = post(api, "customer", mode="insert", records=[customer("c1"), customer("c3")])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "records[0].customer_id", "message": "already exists"}
    ]
    assert (
        post(api, "customer", mode="delete", records=[{"customer_id": "c2"}]).json()["written"] == 1
    )
    assert list(dynamic.get_model("customer").objects.values_list("pk", flat=True)) == ["c1"]


@pytest.mark.parametrize(
    ("record", "path", "message"),
    [
        ({"customer_id": "c9"}, "records[0].loyalty_points", "required"),
        (customer(None), "records[0].customer_id", "required"),
        (customer("c9", loyalty_points="ten"), "records[0].loyalty_points", "not an integer"),
        (customer("c9", loyalty_points=1.5), "records[0].loyalty_points", "not an integer"),
        (customer("c9", balance="1234567.1"), "records[0].balance", "not a decimal"),
        (customer("c9", score="fast"), "records[0].score", "not a number"),
        (customer("c9", vip="maybe"), "records[0].vip", "not true or false"),
        (customer("c9", birth_date="2023-02-30"), "records[0].birth_date", "not a date"),
        (customer("c9", birth_date="1/2/2023"), "records[0].birth_date", "not a date"),
        (customer("c9", updated_at="2026-13-01T00:00"), "records[0].updated_at", "not an ISO"),
        (customer("c9", country="XX"), "records[0].country", "not one of"),
        (customer("c9", store_id="nowhere"), "records[0].store_id", "no store"),
        (customer("c9", color="red"), "records[0].color", "unknown attribute"),
        (customer("c9", email={"a": 1}), "records[0].email", "expected a string"),
        ("c9", "records[0]", "expected an object"),
    ],
)
def test_every_kind_of_invalid_record_gets_400_with_its_path(api, record, path, message):
    response = post(api, "customer", records=[customer("ok"), record][1:])
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert [e["path"] for e in errors] == [path]
    assert errors[0]["message"].startswith(message)
    assert dynamic.get_model("customer").objects.count() == 0


def test_atomic_writes_nothing_and_reports_every_path(api):
    records = [customer("c1"), customer("c2", country="XX"), customer("c3", vip="x")]
    response = post(api, "customer", records=records)
    assert [e["path"] for e in response.json()["errors"]] == [
        "records[1].country",
        "records[2].vip",
    ]
    assert dynamic.get_model("customer").objects.count() == 0


def test_not_atomic_writes_the_good_rows_and_lists_the_rejected(api):
    records = [customer("c1"), customer("c2", country="XX"), customer("c1", loyalty_points=2)]
    body = post(api, "customer", atomic=False, records=records).json()
    assert body["written"] == 1
    assert body["rejected"] == [
        {"index": 1, "message": "country: not one of: FR, DE, US"},
        {"index": 2, "message": "customer_id: duplicate key: same as row 0"},
    ]
    assert dynamic.get_model("customer").objects.get().loyalty_points == 1


def test_version_field_keeps_newer_records(api):
    post(
        api, "customer", records=[customer("c1", loyalty_points=5, updated_at="2026-05-01T00:00Z")]
    )
    body = post(
        api,
        "customer",
        records=[
            customer("c1", loyalty_points=1, updated_at="2026-04-01T00:00Z"),
            customer("c2", loyalty_points=2, updated_at="2026-04-01T00:00Z"),
        ],
    ).json()
    assert body == {"written": 1, "skipped_older": 1}
    assert dynamic.get_model("customer").objects.get(pk="c1").loyalty_points == 5
    body = post(
        api, "customer", records=[customer("c1", loyalty_points=9, updated_at="2026-06-01")]
    ).json()
    assert body == {"written": 1, "skipped_older": 0}
    assert dynamic.get_model("customer").objects.get(pk="c1").loyalty_points == 9


def test_missing_links_accept_writes_dangling_keys(api):
    response = post(
        api, "customer", missing_links="accept", records=[customer("c1", store_id="later")]
    )
    assert response.json()["written"] == 1
    assert dynamic.get_model("customer").objects.get().store_id == "later"


def test_bad_options_and_unknown_schema(api):
    response = post(api, "customer", mode="merge", atomic="yes", records={})
    assert {e["path"] for e in response.json()["errors"]} == {"mode", "atomic", "records"}
    assert post(api, "nothing", records=[]).status_code == 404
