"""Gaps of the targeting activities, each through its real entry point: campaign files uploaded
through the admin by a non-superuser (stored, 403 without the add permission, form errors beside
the field); ``load_file`` with ``trim: false``, ``cp1252`` and a ``text`` column; ``update_data``
with an empty ``mapping`` (the inbound columns named like attributes); ``deduplication`` on a link
path (``store.city`` of the demo schemas); ``save_audience`` and ``update_data`` given no
records."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F
from django.urls import reverse

from audiences import populations
from audiences.demo import document
from audiences.models import SavedAudience, Schema
from audiences.services.schemas import create_schemas
from audiences.shapes import Shape
from campaigns import files
from campaigns.activities import registry
from campaigns.models import CampaignFile
from config.access import SYSTEM
from config.audit import entries
from tests.campaigns.contacts import contacts  # noqa: F401 - fixture
from tests.campaigns.targeting import audience, errors, fetch, keys, rows, shape, sql_keys, step
from tests.conftest import staff_with, token_client

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/campaigns/campaignfile/add/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def form_errors(response):
    return response.context["adminform"].form.errors


def field_errors(response, field):
    """The error messages the admin page shows in ``field``'s own row (beside the field)."""
    page = response.content.decode()
    row = re.search(rf'<div class="form-row[^"]*field-{field}">(.*?)<label', page, re.S)
    assert row is not None, f"no row for {field}"
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', row[1], re.S)
    return re.findall(r"<li>(.*?)</li>", found[1]) if found else []


# --- 1. the admin upload of campaign files ------------------------------------------------------


def test_admin_upload_by_a_staff_non_superuser_stores_the_file(client, media):
    assert reverse("admin:campaigns_campaignfile_add") == ADD_URL
    clerk = staff_with("campaigns.add_campaignfile", "campaigns.view_campaignfile", name="clerk")
    client.force_login(clerk)
    empty_form = client.get(ADD_URL)
    assert empty_form.status_code == 200
    assert "Uploaded by" not in empty_form.content.decode(), "nothing to show before the upload"
    body = b"id,email\n1,ann@example.com\n2,bob@example.com\n3,eve@example.com"
    answer = client.post(
        ADD_URL, {"name": "", "upload": SimpleUploadedFile("people list.csv", body), "_save": "1"}
    )
    assert answer.status_code == 302, answer.content.decode()
    item = CampaignFile.objects.get()
    assert (item.name, item.original_name, item.size, item.rows) == (
        "people_list.csv",
        "people list.csv",
        len(body),
        4,
    )
    assert item.uploaded_by == clerk
    with item.file.open("rb") as stream:
        assert stream.read() == body
    assert str(media) in item.file.path
    logged = [json.loads(e.change_message)[0] for e in entries(obj=item)]
    assert [(e["message"], e["details"]) for e in logged] == [
        ("Uploaded campaign file people_list.csv", {"size": len(body), "rows": 4})
    ]
    change = client.get(reverse("admin:campaigns_campaignfile_change", args=[item.pk]))
    assert "Uploaded by" in change.content.decode() and "clerk" in change.content.decode()
    listing = client.get("/admin/campaigns/campaignfile/").content.decode()
    assert "people_list.csv" in listing
    out, _ = step("load_file", {"file": "people_list.csv", "columns": [{"name": "email"}]})
    assert sorted(r["email"] for r in rows(out["out"]).values()) == [
        "ann@example.com",
        "bob@example.com",
        "eve@example.com",
    ]
    named = client.post(
        ADD_URL, {"name": "winners.csv", "upload": SimpleUploadedFile("w.csv", b"a\nb\n")}
    )
    assert named.status_code == 302
    assert CampaignFile.objects.get(name="winners.csv").rows == 2


def test_admin_upload_without_the_add_permission_is_forbidden(client, media):
    client.force_login(staff_with("campaigns.view_campaignfile", name="viewer"))
    assert client.get(ADD_URL).status_code == 403
    refused = client.post(ADD_URL, {"upload": SimpleUploadedFile("a.csv", b"a\n1\n")})
    assert refused.status_code == 403
    assert not CampaignFile.objects.exists()
    assert client.get("/admin/campaigns/campaignfile/").status_code == 200


def test_admin_bad_uploads_show_an_error_beside_the_field(client, media):
    client.force_login(staff_with("campaigns.add_campaignfile", name="clerk"))
    empty = client.post(ADD_URL, {"name": "", "upload": SimpleUploadedFile("empty.csv", b"")})
    assert empty.status_code == 200
    assert list(form_errors(empty)) == ["upload"]
    assert form_errors(empty)["upload"][0] == "The submitted file is empty."
    assert field_errors(empty, "upload")[0] == "The submitted file is empty."
    missing = client.post(ADD_URL, {"name": "x.csv"})
    assert missing.status_code == 200
    assert field_errors(missing, "upload") == ["Choose a file to upload."]
    path = client.post(ADD_URL, {"name": "../up", "upload": SimpleUploadedFile("a.csv", b"a\n")})
    assert path.status_code == 200
    assert field_errors(path, "name") == [
        "Letters, digits, dots, dashes and underscores, not a path."
    ]
    assert field_errors(path, "upload") == []
    assert not CampaignFile.objects.exists()
    files.upload(upload=SimpleUploadedFile("t.csv", b"a\n"), name="taken.csv", user=SYSTEM)
    again = client.post(ADD_URL, {"name": "taken.csv", "upload": SimpleUploadedFile("t", b"b\n")})
    assert again.status_code == 200
    assert field_errors(again, "name") == [
        "A file has this name; replacing it needs change permission."
    ]
    with CampaignFile.objects.get(name="taken.csv").file.open("rb") as stream:
        assert stream.read() == b"a\n", "not replaced"


def test_admin_empty_upload_says_only_that_the_file_is_empty(client, media):
    client.force_login(staff_with("campaigns.add_campaignfile", name="clerk"))
    empty = client.post(ADD_URL, {"name": "", "upload": SimpleUploadedFile("empty.csv", b"")})
    assert field_errors(empty, "upload") == ["The submitted file is empty."]


# --- 2. load_file: trim false, cp1252, text columns ---------------------------------------------


def stored(name, data: bytes):
    files.upload(upload=SimpleUploadedFile(name, data), name=name, user=SYSTEM)


def test_load_file_trim_false_keeps_the_spaces(media):
    stored("spaced.csv", b"id;name;code\n1;  Ann  ; x \n2;   ;y\n3;;z\n")
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "name", "trim": False, "required": True},
        {"name": "code", "remap": {" x ": "kept"}, "trim": False},
    ]
    out, ctx = step("load_file", {"file": "spaced.csv", "columns": columns, "delimiter": ";"})
    assert rows(out["out"]) == {
        2: {"id": 1, "name": "  Ann  ", "code": "kept"},
        3: {"id": 2, "name": "   ", "code": "y"},
    }, "spaces kept, a blank value is not empty, remap compares the untrimmed value"
    assert {line: r["reason"] for line, r in rows(out["rejects"]).items()} == {4: "name: required"}
    assert ctx.state == {"loaded": 2, "rejected": 1}
    trimmed, _ = step(
        "load_file",
        {"file": "spaced.csv", "columns": [columns[0], {"name": "name"}], "delimiter": ";"},
    )
    assert {k: v["name"] for k, v in rows(trimmed["out"]).items()} == {2: "Ann", 3: None, 4: None}


def test_load_file_reads_cp1252(media):
    text = "id,price,name\n1,5 €,Café\n2,€€,Zoë – Œuvre\n"
    data = text.encode("cp1252")
    assert b"\x80" in data and b"\xe9" in data
    stored("prices.csv", data)
    columns = [{"name": "id", "type": "integer"}, {"name": "price"}, {"name": "name"}]
    out, _ = step("load_file", {"file": "prices.csv", "columns": columns, "encoding": "cp1252"})
    assert rows(out["out"]) == {
        2: {"id": 1, "price": "5 €", "name": "Café"},
        3: {"id": 2, "price": "€€", "name": "Zoë – Œuvre"},
    }
    assert out["rejects"].count == 0
    as_latin1, _ = step(
        "load_file", {"file": "prices.csv", "columns": columns, "encoding": "latin-1"}
    )
    assert rows(as_latin1["out"])[2]["price"] == "5 \x80", "latin-1 reads 0x80 as a control"
    as_utf8, _ = step("load_file", {"file": "prices.csv", "columns": columns})
    assert as_utf8["out"].count == 0
    assert {k: v["reason"] for k, v in rows(as_utf8["rejects"]).items()} == {
        2: "not utf-8 text",
        3: "not utf-8 text",
    }


def test_load_file_cp1252_undefined_byte_is_a_rejected_line(media):
    stored("odd.csv", b"id,name\n1,Caf\xe9\n2,bad\x81byte\n3,\x80\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    out, _ = step("load_file", {"file": "odd.csv", "columns": columns, "encoding": "cp1252"})
    assert {k: v["name"] for k, v in rows(out["out"]).items()} == {2: "Café", 4: "€"}
    assert {k: v["reason"] for k, v in rows(out["rejects"]).items()} == {3: "not cp1252 text"}


def test_load_file_text_column(media):
    long = "x" * 5000
    stored(
        "notes.csv",
        f'id,note,short\n1,"line one\nline ""two"", with a comma",a\n2,{long},b\n3,,c\n'.encode(),
    )
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "note", "type": "text"},
        {"name": "short", "type": "string"},
    ]
    out, _ = step("load_file", {"file": "notes.csv", "columns": columns})
    assert rows(out["out"]) == {
        2: {"id": 1, "note": 'line one\nline "two", with a comma', "short": "a"},
        3: {"id": 2, "note": long, "short": "b"},
        4: {"id": 3, "note": None, "short": "c"},
    }, "a quoted value spanning lines counts as one line (files.py)"
    note = next(c for c in out["out"].columns if c["name"] == "note")
    assert note["type"] == "text"
    assert fetch(
        f"SELECT pg_typeof({note['column']})::text FROM {out['out'].table_name} LIMIT 1"
    ) == [("text",)]
    assert errors("load_file", {"file": "notes.csv", "columns": columns}) == set()
    shapes = registry.get("load_file").outputs({"columns": columns}, {})
    assert shapes["out"].columns == {"id": "integer", "note": "text", "short": "string"}


# --- 3. update_data with an empty mapping -------------------------------------------------------


def with_columns(where=None, **columns):
    return populations.materialize(
        queryset=populations.members(audience("contacts", where)),
        schema=Schema.objects.get(name="contacts"),
        columns=columns,
    )


def contacts_table():
    return fetch("SELECT contact_id, email, score, plan FROM data_contacts ORDER BY 1")


def file_rows(text):
    stored("rows.csv", text.encode())
    columns = [{"name": n} for n in text.splitlines()[0].split(",")]
    for column in columns:
        if column["name"] in ("score", "points"):
            column["type"] = "integer"
    out, _ = step("load_file", {"file": "rows.csv", "columns": columns})
    return out["out"]


@pytest.mark.usefixtures("contacts", "staff_user")
def test_update_data_empty_mapping_takes_the_columns_named_like_attributes():
    before = dict((row[0], row[1:]) for row in contacts_table())
    pop = with_columns(
        {"field": "score", "op": "lte", "value": 3},  # k4 (3), k5 (1), k6 (2)
        score=(F("score") * 10, "integer"),
        plan=(F("email"), "string"),
        bonus=(F("score") + 1, "integer"),  # no such attribute: not written
    )
    options = {"schema": "contacts", "operation": "update", "mapping": {}}
    inbound = shape("contacts", score="integer", plan="string", bonus="integer")
    assert errors("update_data", options, inbound) == set()
    out, ctx = step("update_data", options, pop)
    assert ctx.state == {"written": 3, "skipped_older": 0, "rejected": 0}
    assert keys(out["out"]) == ["k4", "k5", "k6"] and out["rejects"].count == 0
    after = dict((row[0], row[1:]) for row in contacts_table())
    assert {k: after[k] for k in ("k4", "k5", "k6")} == {
        "k4": (None, 30, None),
        "k5": (None, 10, None),
        "k6": ("", 20, ""),
    }, "score and plan from the columns; email (not a column) untouched"
    assert {k: v for k, v in after.items() if k not in ("k4", "k5", "k6")} == {
        k: v for k, v in before.items() if k not in ("k4", "k5", "k6")
    }


@pytest.mark.usefixtures("contacts", "staff_user", "media")
def test_update_data_empty_mapping_from_a_file_upserts_by_the_named_primary_key():
    lines = "contact_id,score,extra\nk1,42,x\nk20,7,y\n"
    options = {"schema": "contacts", "operation": "upsert", "mapping": {}}
    out, ctx = step("update_data", options, file_rows(lines))
    assert ctx.state == {"written": 2, "skipped_older": 0, "rejected": 0}
    assert out["rejects"].count == 0
    assert fetch(
        "SELECT contact_id, email, score, plan FROM data_contacts "
        "WHERE contact_id IN ('k1', 'k20') ORDER BY 1"
    ) == [("k1", "Ann@Example.com", 42, "gold"), ("k20", None, 7, None)]


@pytest.mark.usefixtures("contacts", "staff_user")
def test_update_data_empty_mapping_validation_at_paths():
    unnamed = Shape.file({"id": "string", "points": "integer"})
    assert errors("update_data", {"schema": "contacts", "mapping": {}}, unnamed) == {
        ("a[0].mapping", "map the primary key 'contact_id', or give key attributes")
    }
    assert errors(
        "update_data", {"schema": "contacts", "operation": "delete", "mapping": {}}, unnamed
    ) == {
        ("a[0].mapping", "map the primary key 'contact_id', or give key attributes"),
        ("a[0].mapping", "nothing identifies the records to delete"),
    }
    named = Shape.file({"contact_id": "string", "points": "integer"})
    assert errors("update_data", {"schema": "contacts", "mapping": {}}, named) == set()
    assert errors("update_data", {"schema": "contacts", "mapping": {}}, shape("contacts")) == set()


@pytest.mark.usefixtures("contacts", "staff_user")
def test_update_data_empty_mapping_on_the_schemas_own_population():
    """Nothing named like an attribute: the records are identified by the population's key;
    ``delete`` deletes them, and an ``update`` with nothing to write is refused at its path."""
    assert errors(
        "update_data", {"schema": "contacts", "operation": "update"}, shape("contacts")
    ) == {
        ("a[0].mapping", "nothing to write: map an attribute besides those identifying the records")
    }
    assert errors(
        "update_data",
        {"schema": "contacts", "operation": "update", "mapping": {"contact_id": "contact_id"}},
        shape("contacts"),
    ) == {
        ("a[0].mapping", "nothing to write: map an attribute besides those identifying the records")
    }
    gold = audience("contacts", {"field": "plan", "op": "eq", "value": "gold"})
    out, ctx = step("update_data", {"schema": "contacts", "operation": "delete"}, gold)
    assert ctx.state == {"written": 4, "skipped_older": 0, "rejected": 0}
    assert [row[0] for row in contacts_table()] == ["k2", "k3", "k5", "k7"]


# --- 4. deduplication on a link path ------------------------------------------------------------

STORES = [("s1", "Paris"), ("s2", "Paris"), ("s3", "Lyon"), ("s4", None), ("s5", "")]
CUSTOMERS = [
    # key, store, loyalty points, country
    ("c1", "s1", 100, "FR"),
    ("c2", "s2", 50, "FR"),
    ("c3", "s3", 300, "FR"),
    ("c4", "s3", 200, "DE"),
    ("c5", "s4", 10, "FR"),
    ("c6", "s4", 20, "FR"),
    ("c7", None, 30, "FR"),
    ("c8", "s9", 40, "FR"),  # a dangling link: no store s9
    ("c9", "s5", 60, "FR"),
    ("c10", "s1", None, "FR"),
]


@pytest.fixture
def shop(db):
    create_schemas(document=document())
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO data_store (store_id, name, city, country) VALUES (%s, %s, %s, 'FR')",
            [(key, f"store {key}", city) for key, city in STORES],
        )
        cursor.executemany(
            "INSERT INTO data_customer (customer_id, store_id, loyalty_points, country) "
            "VALUES (%s, %s, %s, %s)",
            CUSTOMERS,
        )


def by_city(fields, choose=None):
    options = {"fields": fields, **({"choose": choose} if choose else {})}
    out, _ = step("deduplication", options, audience("customer"))
    return keys(out["out"]), keys(out["duplicates"])


@pytest.mark.usefixtures("shop")
def test_deduplication_on_a_link_path_keeps_one_customer_per_store_city():
    lowest = {"by": "lowest", "field": "loyalty_points"}
    kept, dups = by_city(["store.city"], lowest)
    assert dups == ["c1", "c10", "c3"], "Paris (s1, s2): c2 has the fewest points; Lyon: c4"
    assert kept == ["c2", "c4", "c5", "c6", "c7", "c8", "c9"], (
        "a null city (s4), no store, a dangling store and an empty city duplicate nothing"
    )
    hand = sql_keys(
        "SELECT customer_id FROM (SELECT c.customer_id, NULLIF(s.city, '') AS k, row_number() "
        "OVER (PARTITION BY NULLIF(s.city, '') ORDER BY c.loyalty_points ASC NULLS LAST, "
        "c.customer_id) AS n FROM data_customer c LEFT JOIN data_store s "
        "ON s.store_id = c.store_id) t WHERE k IS NULL OR n = 1"
    )
    assert kept == hand
    highest = by_city(["store.city"], {"by": "highest", "field": "loyalty_points"})
    assert highest[1] == ["c10", "c2", "c4"], "Paris keeps c1 (100; c10's null is last)"
    both = by_city(["store.city", "country"], lowest)
    assert both[1] == ["c1", "c10"], "Lyon's c3 (FR) and c4 (DE) differ by country"
    lowered = by_city([{"field": "store.city", "transform": "lower"}], lowest)
    assert lowered == (kept, dups)


@pytest.mark.usefixtures("shop")
def test_deduplication_link_path_validation():
    assert errors("deduplication", {"fields": ["store.city"]}, shape("customer")) == set()
    found = errors("deduplication", {"fields": ["store.nope"]}, shape("customer"))
    assert [path for path, _message in found] == ["a[0].fields[0]"]


# --- 5. save_audience and update_data given no records ------------------------------------------


@pytest.mark.usefixtures("contacts", "staff_user")
def test_save_audience_of_an_empty_population_saves_an_audience_without_members():
    nobody = audience("contacts", {"field": "score", "op": "gt", "value": 100})
    assert nobody.count == 0
    out, ctx = step("save_audience", {"name": "nobody"}, nobody)
    saved = SavedAudience.objects.get(name="nobody")
    assert (saved.kind, saved.count, keys(saved.population)) == ("snapshot", 0, [])
    assert ctx.state == {"audience": "nobody", "members": 0, "created": True}
    assert out["out"].count == 0
    reader = token_client(
        staff_with("audiences.view_records", "audiences.view_savedaudience", name="reader")
    )
    page = reader.get("/api/audiences/nobody/members/")
    assert page.status_code == 200 and page.json()["count"] == 0 and page.json()["results"] == []


@pytest.mark.usefixtures("contacts", "staff_user")
def test_save_audience_second_run_with_no_records_empties_the_audience():
    step("save_audience", {"name": "vip"}, with_columns(double=(F("score") * 2, "integer")))
    saved = SavedAudience.objects.get(name="vip")
    assert saved.count == 8 and len(rows(saved.population)) == 8
    old_table = saved.population.table_name
    nobody = with_columns(
        {"field": "score", "op": "gt", "value": 100}, double=(F("score") * 2, "integer")
    )
    _out, ctx = step("save_audience", {"name": "vip"}, nobody)
    saved.refresh_from_db()
    assert (saved.count, rows(saved.population)) == (0, {})
    assert ctx.state == {"audience": "vip", "members": 0, "created": False}
    assert fetch("SELECT to_regclass(%s)", [old_table]) == [(None,)], "the old members are gone"
    assert SavedAudience.objects.filter(name__startswith="vip").count() == 1
    logged = json.loads(entries(obj=saved)[0].change_message)[0]
    assert logged["message"] == "Replaced the snapshot's members"
    assert logged["details"] == {"count": 0, "before": 8}
    reader = token_client(
        staff_with("audiences.view_records", "audiences.view_savedaudience", name="reader")
    )
    csv_answer = reader.get("/api/audiences/vip/members/?format=csv")
    assert b"".join(csv_answer.streaming_content).decode().splitlines() == ["key,double"]


@pytest.mark.usefixtures("contacts", "staff_user")
@pytest.mark.parametrize("operation", ["insert", "update", "upsert", "delete"])
def test_update_data_of_an_empty_population_writes_nothing_and_audits_zero(operation):
    before = contacts_table()
    nobody = with_columns(
        {"field": "score", "op": "gt", "value": 100}, score=(F("score") + 1, "integer")
    )
    out, ctx = step(
        "update_data",
        {"schema": "contacts", "operation": operation, "mapping": {}},
        nobody,
        key="write",
    )
    assert contacts_table() == before
    assert ctx.state == {"written": 0, "skipped_older": 0, "rejected": 0}
    assert out["out"].count == 0 and out["rejects"].count == 0
    schema = Schema.objects.get(name="contacts")
    logged = [
        json.loads(e.change_message)[0]
        for e in entries(obj=schema)
        if "update_data" in e.change_message
    ]
    assert logged == [
        {
            "message": f"update_data {operation} by run 1 (write): 0 written, 0 older skipped, "
            "0 rejected",
            "by": "system",
            "details": {
                "run": 1,
                "activity": "write",
                "written": 0,
                "skipped_older": 0,
                "rejected": 0,
            },
        }
    ]
