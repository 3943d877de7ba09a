"""``save_audience`` (snapshot replaced under its exact name, members endpoint paged and as a
streamed CSV under audiences.view_records, skipped in test runs) and ``update_data`` (every
operation, by primary key and by key reconciliation, mapping, version_field, rejects, one audit
entry, skipped in test runs), against hand-written SQL."""

import pytest
from django.db import connection
from django.db.models import F

from audiences import populations
from audiences.models import SavedAudience, Schema
from audiences.services.audiences import create_rule_audience
from audiences.shapes import Shape
from config.audit import entries
from tests.campaigns.contacts import contacts  # noqa: F401 - fixture
from tests.campaigns.targeting import audience, errors, fetch, keys, rows, shape, step
from tests.conftest import staff_with, token_client

# staff_user: audit entries by the system are attributed to the first superuser
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("contacts", "staff_user")]


def scored(where=None):
    return populations.materialize(
        queryset=populations.members(audience("contacts", where)),
        schema=Schema.objects.get(name="contacts"),
        columns={"double": (F("score") * 2, "integer")},
    )


def test_save_audience_replaces_the_snapshot_under_its_name():
    first, ctx = step(
        "save_audience", {"name": "vip"}, scored({"field": "score", "op": "gte", "value": 7})
    )
    saved = SavedAudience.objects.get(name="vip")
    assert saved.kind == "snapshot" and saved.count == 3 and ctx.state["created"] is True
    assert rows(saved.population) == {
        "k2": {"double": 18},
        "k7": {"double": 14},
        "k8": {"double": 14},
    }
    old_table = saved.population.table_name
    step("save_audience", {"name": "vip"}, scored({"field": "plan", "op": "eq", "value": "gold"}))
    saved.refresh_from_db()
    assert keys(saved.population) == ["k1", "k4", "k6", "k8"] and saved.count == 4
    assert SavedAudience.objects.filter(name__startswith="vip").count() == 1, "no copy"
    assert fetch("SELECT to_regclass(%s)", [old_table]) == [(None,)], "the old members are gone"
    assert first["out"].count == 3, "the population passes on"
    assert [e.change_message for e in entries(obj=saved)][0].startswith('[{"message": "Replaced')


def test_save_audience_is_skipped_in_test_runs_and_checks_its_name():
    out, ctx = step("save_audience", {"name": "tested"}, audience("contacts"), test=True)
    assert not SavedAudience.objects.filter(name="tested").exists()
    assert ctx.state["note"] == "skipped (test run): 8 members not saved as 'tested'"
    assert out["out"].count == 8
    create_rule_audience(name="ruled", schema="contacts", where={"and": []})
    assert errors("save_audience", {"name": "ruled"}, shape("contacts")) == {
        ("a[0].name", "'ruled' is a rule audience")
    }
    assert errors("save_audience", {"name": "Not ok"}, shape("contacts")) >= {
        (
            "a[0].name",
            "must be lowercase letters, digits and single underscores, starting with a letter (no double or trailing underscore)",
        )
    }


def test_members_endpoint_pages_and_streams_csv():
    step("save_audience", {"name": "vip"}, scored())
    reader = token_client(
        staff_with("audiences.view_records", "audiences.view_savedaudience", name="reader")
    )
    page = reader.get("/api/audiences/vip/members/?page_size=3&page=2").json()
    assert page["count"] == 8 and [r["key"] for r in page["results"]] == ["k4", "k5", "k6"]
    assert page["results"][0] == {"key": "k4", "double": 6}
    csv_answer = reader.get("/api/audiences/vip/members/?format=csv")
    assert csv_answer.status_code == 200 and csv_answer["Content-Type"] == "text/csv"
    text = b"".join(csv_answer.streaming_content).decode()
    assert text.splitlines()[:3] == ["key,double", "k1,10", "k2,18"] and len(text.splitlines()) == 9
    create_rule_audience(
        name="golds", schema="contacts", where={"field": "plan", "op": "eq", "value": "gold"}
    )
    assert [r["key"] for r in reader.get("/api/audiences/golds/members/").json()["results"]] == [
        "k1",
        "k4",
        "k6",
        "k8",
    ]
    stranger = token_client(staff_with("audiences.view_savedaudience", name="stranger"))
    refused = stranger.get("/api/audiences/vip/members/")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Reading an audience's members needs audiences.view_records"
    }


def contact(key):
    return fetch("SELECT email, score, plan FROM data_contacts WHERE contact_id = %s", [key])


def test_update_by_primary_key_from_a_column_and_one_audit_entry():
    pop = scored({"field": "score", "op": "lte", "value": 3})  # k4 (3), k5 (1), k6 (2)
    out, ctx = step(
        "update_data",
        {"schema": "contacts", "operation": "update", "mapping": {"score": "target.double"}},
        pop,
    )
    assert fetch(
        "SELECT contact_id, score FROM data_contacts WHERE contact_id IN ('k4','k5','k6') ORDER BY 1"
    ) == [("k4", 6), ("k5", 2), ("k6", 4)]
    assert ctx.state == {"written": 3, "skipped_older": 0, "rejected": 0}
    assert out["out"].count == 3 and out["rejects"].count == 0
    contacts_schema = Schema.objects.get(name="contacts")
    logged = [e for e in entries(obj=contacts_schema) if "update_data" in e.change_message]
    assert len(logged) == 1 and "3 written" in logged[0].change_message


def load_rows(text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from campaigns import files
    from config.access import SYSTEM

    files.upload(upload=SimpleUploadedFile("u.csv", text.encode()), name="u.csv", user=SYSTEM)
    columns = [{"name": "id"}, {"name": "email"}, {"name": "score", "type": "integer"}]
    out, _ = step("load_file", {"file": "u.csv", "columns": columns})
    return out["out"]


def test_insert_upsert_delete_from_a_file_with_rejects():
    lines = (
        "id,email,score\nk9,new@example.com,4\nk1,ann2@example.com,x\nk2,,8\n,nokey@example.com,1\n"
    )
    out, ctx = step(
        "update_data",
        {
            "schema": "contacts",
            "operation": "insert",
            "mapping": {"contact_id": "id", "email": "email", "score": "score"},
        },
        load_rows(lines),
    )
    assert contact("k9") == [("new@example.com", 4, None)]
    assert {line: r["reason"] for line, r in rows(out["rejects"]).items()} == {
        4: "contact_id: already exists",
        5: "no primary key to identify the record",
    }
    assert ctx.state["written"] == 1
    upsert, ctx = step(
        "update_data",
        {
            "schema": "contacts",
            "operation": "upsert",
            "mapping": {"contact_id": "id", "score": "score"},
        },
        load_rows("id,email,score\nk2,,8\nk10,,5\n"),
    )
    assert contact("k2") == [(" ann@example.com ", 8, "silver")], "unmapped attributes stay"
    assert contact("k10") == [(None, 5, None)] and ctx.state["written"] == 2
    gone, ctx = step(
        "update_data",
        {"schema": "contacts", "operation": "delete", "mapping": {"contact_id": "id"}},
        load_rows("id,email,score\nk9,,\nk99,,\n"),
    )
    assert contact("k9") == [] and ctx.state["written"] == 1
    assert rows(gone["rejects"])[3]["reason"] == "no contacts with this key"


def test_reconciliation_on_key_attributes():
    lines = "id,email,score\n,bob@example.com,1\n,ann@example.com,50\n,nobody@example.com,2\n"
    out, ctx = step(
        "update_data",
        {
            "schema": "contacts",
            "operation": "update",
            "key": ["email"],
            "mapping": {"email": "email", "score": "score"},
        },
        load_rows(lines),
    )
    assert contact("k3") == [("ann@example.com", 50, "bronze")]
    assert {line: r["reason"] for line, r in rows(out["rejects"]).items()} == {
        2: "matches several contacts records",
        4: "no contacts with this key",
    }
    assert ctx.state["written"] == 1


def test_version_field_keeps_newer_records():
    from audiences.services.schemas import create_schemas

    (profiles,) = create_schemas(
        document={
            "name": "profiles",
            "primary_key": "profile_id",
            "version_field": "changed",
            "attributes": [
                {"name": "profile_id", "type": "string"},
                {"name": "points", "type": "integer"},
                {"name": "changed", "type": "datetime"},
            ],
        }
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO data_profiles VALUES ('p1', 1, '2026-06-01T00:00Z'), ('p2', 1, '2026-01-01T00:00Z')"
        )
    from django.core.files.uploadedfile import SimpleUploadedFile

    from campaigns import files
    from config.access import SYSTEM

    files.upload(
        upload=SimpleUploadedFile(
            "v.csv", b"id,points,changed\np1,9,2026-03-01T00:00Z\np2,9,2026-03-01T00:00Z\n"
        ),
        name="v.csv",
        user=SYSTEM,
    )
    loaded, _ = step(
        "load_file",
        {
            "file": "v.csv",
            "columns": [
                {"name": "id"},
                {"name": "points", "type": "integer"},
                {"name": "changed", "type": "datetime"},
            ],
        },
    )
    _out, ctx = step(
        "update_data",
        {
            "schema": "profiles",
            "mapping": {"profile_id": "id", "points": "points", "changed": "changed"},
        },
        loaded["out"],
    )
    assert fetch("SELECT profile_id, points FROM data_profiles ORDER BY 1") == [
        ("p1", 1),
        ("p2", 9),
    ]
    assert ctx.state == {"written": 1, "skipped_older": 1, "rejected": 0}
    assert profiles.version_field == "changed"


def test_update_data_is_skipped_in_test_runs_and_validates():
    before = fetch("SELECT contact_id, score FROM data_contacts ORDER BY 1")
    out, ctx = step(
        "update_data",
        {"schema": "contacts", "operation": "delete"},
        audience("contacts"),
        test=True,
    )
    assert fetch("SELECT contact_id, score FROM data_contacts ORDER BY 1") == before
    assert ctx.state["note"] == "skipped (test run): 8 rows would be written to contacts (delete)"
    assert out["rejects"] is None and out["out"].count == 8
    file_rows = Shape.file({"id": "string", "score": "integer"})
    good = {"schema": "contacts", "mapping": {"contact_id": "id", "score": "score"}}
    assert errors("update_data", good, file_rows) == set()
    assert errors(
        "update_data", {**good, "mapping": {"nope": "id", "contact_id": "id"}}, file_rows
    ) == {("a[0].mapping.nope", "contacts has no attribute 'nope'")}
    assert errors("update_data", {**good, "mapping": {"contact_id": "zz"}}, file_rows) == {
        ("a[0].mapping.contact_id", "the file has no column 'zz' (its columns: id, score)")
    }
    assert errors("update_data", {**good, "mapping": {"score": "score"}}, file_rows) == {
        ("a[0].mapping", "map the primary key 'contact_id', or give key attributes")
    }
    assert errors("update_data", {**good, "key": ["email"]}, file_rows) == {
        ("a[0].key[0]", "map 'email' to a column")
    }
    assert errors("update_data", {**good, "key": ["nope"]}, file_rows) >= {
        ("a[0].key[0]", "contacts has no attribute 'nope'")
    }
    assert (
        errors(
            "update_data",
            {"schema": "contacts", "operation": "update", "mapping": {"score": "target.double"}},
            shape("contacts", double="integer"),
        )
        == set()
    )
