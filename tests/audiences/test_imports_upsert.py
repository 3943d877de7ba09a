"""The upsert of a file into a populated table (issue 10): copied into a typed temporary table,
checked there, and only its new and changed rows written; unchanged rows are counted and left
as they were (not even a new row version). Any bad value or failed check falls back to the
staging path, whose rejects are exact."""

import importlib
import io

import pytest
from django.apps import apps
from django.db import connection

from audiences import dynamic
from audiences.import_runs import run_import
from audiences.imports import ImportFailed, import_csv, rejects_by_row
from audiences.models import Schema
from tests.audiences import test_imports_api
from tests.audiences.test_imports_first_load import PEOPLE, customers, indexes, run
from tests.audiences.test_records_support import define

api, upload = test_imports_api.api, test_imports_api.upload  # a staff user with record rights

STORED = (
    "customer_id,email,country,loyalty_points,balance,vip,store_id,updated_at\n"
    "c1,a@x.org,FR,10,12.50,true,s1,2026-01-01T00:00:00Z\n"
    "c2,b@x.org,DE,20,,false,s2,2026-01-01T00:00:00Z\n"
    "c3,c@x.org,US,30,1.00,,,\n"
)


def versions():
    """The physical row version of each customer: it changes whenever the row is rewritten."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_id, ctid::text FROM data_customer")
        return dict(cursor.fetchall())


def copies_left():
    """Tables of typed copies still there (each import creates and drops its own)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_typed\\_%%'")
        return cursor.fetchone()[0]


@pytest.fixture
def stored(db):
    define()
    run("store_id,city\ns1,Paris\ns2,Lyon\n", schema="store")
    _rows, outcome = run(STORED)
    assert outcome.path == "first_load"
    return versions()


def test_only_new_and_changed_rows_are_written_and_unchanged_ones_are_counted(stored):
    rows, outcome = run(
        "customer_id,email,country,loyalty_points,balance,vip,store_id,updated_at\n"
        "c1,a@x.org,FR,10,12.50,true,s1,2026-01-01T00:00:00Z\n"  # as stored
        "c2,b@x.org,DE,21,,false,s2,2026-02-01T00:00:00Z\n"  # changed
        "c4,d@x.org,FR,40,,,s1,\n"  # new
    )
    assert (rows, outcome.path, outcome.rejected) == (3, "upsert", 0)
    assert (outcome.written, outcome.unchanged, outcome.skipped_older) == (3, 1, 0)
    after, stored_rows = versions(), customers()
    assert after["c1"] == stored["c1"]  # not rewritten
    assert after["c2"] != stored["c2"] and stored_rows["c2"].loyalty_points == 21
    assert after["c3"] == stored["c3"] and stored_rows["c3"].loyalty_points == 30
    assert stored_rows["c4"].email == "d@x.org" and stored_rows["c4"].store_id == "s1"
    assert copies_left() == 0


def test_a_file_of_some_columns_compares_only_those_and_keeps_the_others(stored):
    _rows, outcome = run("customer_id,loyalty_points\nc1,10\nc2,22\n")
    assert (outcome.path, outcome.written, outcome.unchanged) == ("upsert", 2, 1)
    stored_rows = customers()
    assert stored_rows["c2"].loyalty_points == 22 and stored_rows["c2"].email == "b@x.org"
    assert str(stored_rows["c1"].balance) == "12.50" and versions()["c1"] == stored["c1"]


def test_a_null_is_a_change_from_a_value_and_no_change_from_null(stored):
    _rows, outcome = run("customer_id,loyalty_points,balance\nc1,10,\nc2,20,\n")
    assert (outcome.written, outcome.unchanged) == (2, 1)  # c1 loses its balance, c2 had none
    assert customers()["c1"].balance is None and versions()["c2"] == stored["c2"]


def test_keys_only_insert_the_new_keys(stored):
    _rows, outcome = run("customer_id,loyalty_points\nc1,10\nc9,1\n")
    assert (outcome.written, outcome.unchanged) == (2, 1)
    assert sorted(customers()) == ["c1", "c2", "c3", "c9"]


def test_a_newer_stored_version_wins_and_is_counted_apart_from_unchanged(stored):
    _rows, outcome = run(
        "customer_id,loyalty_points,updated_at\n"
        "c1,99,2025-01-01T00:00:00Z\n"  # older than stored: skipped
        "c2,20,2026-01-01T00:00:00Z\n"  # as stored
        "c3,33,2026-03-01T00:00:00Z\n"  # stored version empty: written
    )
    assert (outcome.path, outcome.written, outcome.unchanged, outcome.skipped_older) == (
        "upsert",
        2,
        1,
        1,
    )
    stored_rows = customers()
    assert stored_rows["c1"].loyalty_points == 10 and stored_rows["c3"].loyalty_points == 33


@pytest.mark.parametrize(
    ("line", "reject"),
    [
        ("c5,x", "loyalty_points: not an integer"),
        ("c5,", "loyalty_points: required"),
        ('"",5', "customer_id: required"),
        ("c1,6", "customer_id: duplicate key: same as row 1"),
    ],
    ids=["type", "required", "empty key", "duplicate key"],
)
def test_a_bad_row_falls_back_to_exact_rejects_and_the_rest_is_written(stored, line, reject):
    rows, outcome = run(f"customer_id,loyalty_points\nc1,11\n{line}\n")
    assert (rows, outcome.path, outcome.written, outcome.rejected) == (2, "staged", 1, 1)
    assert rejects_by_row(outcome) == [{"row": 2, "message": reject}]
    assert customers()["c1"].loyalty_points == 11 and "c5" not in customers()
    assert copies_left() == 0


@pytest.mark.parametrize(
    ("line", "reject"),
    [
        ("c5,5,XX,s1", "country: not one of: FR, DE, US"),
        ("c5,5,FR,s9", "store_id: no store with this key"),
    ],
    ids=["enum", "missing link"],
)
def test_enum_and_links_are_checked_in_the_typed_copy(stored, line, reject):
    rows, outcome = run(f"customer_id,loyalty_points,country,store_id\nc1,10,FR,s1\n{line}\n")
    assert (rows, outcome.path, outcome.written, outcome.rejected) == (2, "staged", 1, 1)
    assert rejects_by_row(outcome) == [{"row": 2, "message": reject}]
    assert outcome.unchanged == 1 and versions()["c1"] == stored["c1"]  # staging leaves it too
    assert "c5" not in customers()


def test_missing_links_accepted_stay_on_the_typed_path(stored):
    _rows, outcome = run(
        "customer_id,loyalty_points,store_id\nc1,10,nowhere\n", missing_links="accept"
    )
    assert (outcome.path, outcome.written, outcome.unchanged) == ("upsert", 1, 0)
    assert customers()["c1"].store_id == "nowhere"


def test_a_file_not_in_its_encoding_fails_whole_naming_it(stored):
    with pytest.raises(ImportFailed, match="utf-8"):
        import_csv(
            schema=Schema.objects.get(name="customer"),
            stream=io.BytesIO(b"customer_id,loyalty_points\nc\xe91,1\n"),
        )
    assert customers()["c1"].loyalty_points == 10


def test_a_link_into_the_same_schema_finds_its_target_in_the_table_or_the_file(db):
    define(PEOPLE)
    assert run("person_id,sponsor_id\n1,\n", schema="person")[1].path == "first_load"
    _rows, outcome = run("person_id,sponsor_id\n2,1\n3,2\n", schema="person")
    assert (outcome.path, outcome.written) == ("upsert", 2)
    _rows, outcome = run("person_id,sponsor_id\n4,3\n5,7\n", schema="person")
    assert outcome.path == "staged"
    assert rejects_by_row(outcome) == [{"row": 2, "message": "sponsor_id: no person with this key"}]


def test_a_bulk_write_drops_and_rebuilds_the_secondary_indexes(stored, monkeypatch):
    monkeypatch.setattr("audiences.services.records.BULK_ROWS", 2)
    before = indexes()
    # the plain index (PostgreSQL 15 under a libc collation also has a ``_like`` twin)
    (email_index,) = [n for n, _d in before if "email" in n and not n.endswith("_like")]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE data_customer")
        cursor.execute("SELECT %s::regclass::oid", [email_index])
        built = cursor.fetchone()[0]
    _rows, outcome = run("customer_id,email,loyalty_points\nc1,z1@x.org,1\nc2,z2@x.org,2\n")
    assert (outcome.path, outcome.written, outcome.unchanged) == ("upsert", 2, 0)
    assert indexes() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [email_index])
        assert cursor.fetchone()[0] != built  # built again, after the write
    assert dynamic.get_model("customer").objects.filter(email="z2@x.org").count() == 1


def test_a_changed_row_is_rewritten_in_its_own_page_and_no_index_grows(db):
    """Schema tables keep a tenth of each page free (``ddl.FILLFACTOR``): the new version of a
    row whose indexed columns did not change stays in its page (a HOT update). In full pages it
    would go to another page, with a new entry in every index."""
    define()
    header = "customer_id,email,loyalty_points\n"
    run(header + "".join(f"c{i},u{i}@x.org,{i}\n" for i in range(2000)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'data_customer'")
        assert cursor.fetchone()[0] == ["fillfactor=90"]
        cursor.execute("SELECT count(DISTINCT (ctid::text::point)[0]) FROM data_customer")
        pages = cursor.fetchone()[0]
    before = versions()
    _rows, outcome = run(
        header + "".join(f"c{i},u{i}@x.org,{i + (i % 20 == 0)}\n" for i in range(2000))
    )
    assert (outcome.path, outcome.written, outcome.unchanged) == ("upsert", 2000, 1900)
    after = versions()
    moved = [k for k in after if after[k] != before[k]]
    assert len(moved) == 100 and pages > 10

    def page(ctid):  # "(block,offset)"
        return ctid.strip("()").split(",")[0]

    assert all(page(after[k]) == page(before[k]) for k in moved)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_hot_updated('data_customer'::regclass), "
            "pg_stat_get_xact_tuples_updated('data_customer'::regclass)"
        )
        assert cursor.fetchone() == (100, 100)


def test_the_migration_gives_tables_made_before_the_fillfactor(db):
    migration = importlib.import_module("audiences.migrations.0008_data_table_fillfactor")

    def fillfactors():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                "('data_customer', 'data_store') ORDER BY relname"
            )
            return cursor.fetchall()

    define()
    for value in (100, 90):
        with connection.schema_editor() as editor:
            migration.set_fillfactor(value)(apps, editor)
        option = [f"fillfactor={value}"]
        assert fillfactors() == [("data_customer", option), ("data_store", option)]


def test_the_api_reports_unchanged_rows_to_a_staff_user(stored, api):
    response = upload(api, b"customer_id,loyalty_points\nc1,10\nc2,25\nc7,7\n")
    assert response.status_code == 202
    run_import(response.json()["id"])
    body = api.get(f"/api/schemas/customer/imports/{response.json()['id']}/").json()
    assert {k: body[k] for k in ("status", "rows", "written", "unchanged", "rejected")} == {
        "status": "succeeded",
        "rows": 3,
        "written": 3,
        "unchanged": 1,
        "rejected": 0,
    }
    assert customers()["c2"].loyalty_points == 25 and customers()["c7"].loyalty_points == 7


def test_the_staging_path_counts_the_same_and_still_rejects_a_key_given_twice(stored):
    rows, outcome = run(
        "customer_id,loyalty_points,updated_at\n"
        "c1,10,2026-01-01T00:00:00Z\n"  # as stored
        "c1,77,2026-09-01T00:00:00Z\n"  # the same key again, changed: rejected, not written
        "c2,1,2025-01-01T00:00:00Z\n"  # older than stored
        "c3,31,\n"  # changed
        "c4,x,\n"  # bad: the whole file goes through staging
    )
    assert (rows, outcome.path) == (5, "staged")
    assert (outcome.written, outcome.unchanged, outcome.skipped_older) == (2, 1, 1)
    assert rejects_by_row(outcome) == [
        {"row": 2, "message": "customer_id: duplicate key: same as row 1"},
        {"row": 5, "message": "loyalty_points: not an integer"},
    ]
    after, stored_rows = versions(), customers()
    assert after["c1"] == stored["c1"] and after["c2"] == stored["c2"]
    assert stored_rows["c1"].loyalty_points == 10 and stored_rows["c3"].loyalty_points == 31


def test_the_records_api_counts_an_identical_record_as_written(stored, api):
    records = [
        {"customer_id": "c1", "loyalty_points": 10},
        {"customer_id": "c2", "loyalty_points": 3},
    ]
    response = api.post("/api/schemas/customer/records/", {"records": records}, format="json")
    assert (response.status_code, response.json()) == (200, {"written": 2, "skipped_older": 0})
    assert versions()["c1"] == stored["c1"] and customers()["c2"].loyalty_points == 3
