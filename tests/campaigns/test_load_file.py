"""``load_file``: files uploaded through ``files/`` (real multipart requests, non-superusers) or
read from ``CAMPAIGN_FILES_DIR``; every column and file option; rejects with line numbers and
reasons, the slow path for malformed lines, ``max_errors``; validation at paths."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from audiences.population_ops.files import FileRefused
from campaigns import files
from campaigns.activities.load_file import FileFailed
from campaigns.models import CampaignFile
from config.access import SYSTEM
from tests.campaigns.targeting import errors, rows, step
from tests.conftest import staff_with, token_client

pytestmark = pytest.mark.django_db

PEOPLE = (
    "Id;E-mail;Points;Joined;Seen;VIP;Gender\n"
    "1; Ann@Example.com ;10;2026-01-31;2026-01-31T10:00:00+02:00;yes;F\n"
    "2;bob@example.com;x;2026-02-30;2026-02-01 08:30;no;M\n"
    "3;;;;;;\n"
    "4;dan@example.com;7;2026-03-01;bad;maybe;X\n"
)
COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "e_mail", "type": "string", "case": "lower"},
    {"name": "points", "type": "integer", "default": "0"},
    {"name": "joined", "type": "date"},
    {"name": "seen", "type": "datetime"},
    {"name": "vip", "type": "boolean"},
    {"name": "gender", "type": "string", "remap": {"F": "female", "M": "male"}},
]


def stored(name, text, encoding="utf-8"):
    item, _created = files.upload(
        upload=SimpleUploadedFile(name, text.encode(encoding)), name=name, user=SYSTEM
    )
    return item


def load(**options):
    out, ctx = step("load_file", options)
    return out, ctx


def test_files_endpoint_uploads_lists_and_replaces(db):
    clerk = staff_with("campaigns.add_campaignfile", "campaigns.view_campaignfile", name="clerk")
    client = token_client(clerk)
    body = PEOPLE.encode()
    answer = client.post("/api/files/", {"file": SimpleUploadedFile("people list.csv", body)})
    assert answer.status_code == 201, answer.content
    assert answer.json() | {"uploaded_at": None} == {
        "name": "people_list.csv",
        "size": len(body),
        "rows": 5,
        "uploaded_at": None,
    }
    listed = client.get("/api/files/").json()
    assert [f["name"] for f in listed["results"]] == ["people_list.csv"]
    again = client.post(
        "/api/files/", {"file": SimpleUploadedFile("x.csv", b"a\n"), "name": "people_list.csv"}
    )
    assert again.status_code == 403
    assert again.json() == {
        "detail": "Replacing a campaign file needs campaigns.change_campaignfile"
    }
    editor = staff_with("campaigns.add_campaignfile", "campaigns.change_campaignfile", name="ed")
    replaced = token_client(editor).post(
        "/api/files/", {"file": SimpleUploadedFile("x.csv", b"a\nb"), "name": "people_list.csv"}
    )
    assert replaced.status_code == 200 and replaced.json()["rows"] == 2
    item = CampaignFile.objects.get(name="people_list.csv")
    with item.file.open("rb") as stream:
        assert stream.read() == b"a\nb"
    missing = client.post("/api/files/", {"name": "x"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["path"] == "file"
    bad = client.post("/api/files/", {"file": SimpleUploadedFile("a.csv", b"a"), "name": "../up"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "name"
    nobody = token_client(staff_with(name="nobody"))
    assert nobody.get("/api/files/").status_code == 403


def test_columns_types_remap_case_default_and_rejects(db):
    stored("people.csv", PEOPLE)
    out, ctx = load(file="people.csv", columns=COLUMNS, delimiter=";")
    loaded = rows(out["out"])
    assert loaded == {
        2: {
            "id": 1,
            "e_mail": "ann@example.com",
            "points": 10,
            "joined": datetime.date(2026, 1, 31),
            "seen": datetime.datetime(2026, 1, 31, 8, 0, tzinfo=datetime.UTC),
            "vip": True,
            "gender": "female",
        },
        4: {
            "id": 3,
            "e_mail": None,
            "points": 0,
            "joined": None,
            "seen": None,
            "vip": None,
            "gender": None,
        },
    }
    rejected = rows(out["rejects"])
    assert {line: r["reason"] for line, r in rejected.items()} == {
        3: "points: not an integer; joined: not a date (YYYY-MM-DD)",
        5: "seen: not a date-time; vip: not true or false",
    }
    assert rejected[3]["points"] == "x" and rejected[5]["gender"] == "X"
    assert ctx.state == {"loaded": 2, "rejected": 2}
    assert out["out"].schema is None and out["out"].count == 2


def test_a_folder_file_without_header_with_skipped_lines_latin1_and_a_date_format(
    tmp_path, settings
):
    settings.CAMPAIGN_FILES_DIR = str(tmp_path)
    (tmp_path / "in").mkdir()
    text = "export of 2026\n\nZoé|01/02/2026|01/02/2026 13:45|12.50\nLéa|31/04/2026|x|n/a\n"
    (tmp_path / "in" / "people.txt").write_bytes(text.encode("latin-1"))
    columns = [
        {"name": "first", "type": "string", "case": "upper", "required": True},
        {"name": "day", "type": "date"},
        {"name": "at", "type": "datetime"},
        {"name": "spent", "type": "decimal"},
    ]
    out, _ = load(
        file="in/people.txt",
        columns=columns,
        header=False,
        delimiter="|",
        encoding="latin-1",
        skip_lines=2,
        date_format="DD/MM/YYYY HH24:MI",
    )
    assert rows(out["out"]) == {}
    out, _ = load(
        file="in/people.txt",
        columns=[
            *columns[:1],
            {"name": "day", "type": "date"},
            columns[2],
            {"name": "spent", "type": "float"},
        ],
        header=False,
        delimiter="|",
        encoding="latin-1",
        skip_lines=2,
        date_format="DD/MM/YYYY",
    )
    assert rows(out["out"]) == {}  # the date-times have a time the format does not have
    out, _ = load(
        file="in/people.txt",
        columns=[columns[0], {"name": "day", "type": "string"}, columns[2], columns[3]],
        header=False,
        delimiter="|",
        encoding="latin-1",
        skip_lines=2,
        date_format="DD/MM/YYYY HH24:MI",
    )
    assert rows(out["out"]) == {
        3: {
            "first": "ZOÉ",
            "day": "01/02/2026",
            "at": datetime.datetime(2026, 2, 1, 13, 45, tzinfo=datetime.UTC),
            "spent": Decimal("12.50"),
        }
    }
    assert rows(out["rejects"])[4]["reason"] == "at: not a date-time; spent: not a decimal"
    assert errors("load_file", {"file": "../etc/passwd", "columns": columns}) == {
        ("a[0].file", "no campaign file named '../etc/passwd' or under CAMPAIGN_FILES_DIR")
    }
    assert errors("load_file", {"file": "in/people.txt", "columns": columns}) == set()


def test_malformed_lines_are_rejected_by_line_and_the_rest_loads(db):
    text = b'id,name\n1,ann\n2,bob,extra\n3,\xff\xfe\n\n4,"dan\nsmith"\n5,eve\n'
    stored("messy.csv", text.decode("latin-1"), encoding="latin-1")
    columns = [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}]
    out, _ = load(file="messy.csv", columns=columns)
    assert {k: v["name"] for k, v in rows(out["out"]).items()} == {
        2: "ann",
        6: "dan\nsmith",
        7: "eve",
    }
    assert {k: v["reason"] for k, v in rows(out["rejects"]).items()} == {
        3: "has 3 fields, expected 2",
        4: "not utf-8 text",
    }


def test_max_errors_fails_the_activity(db):
    stored("people.csv", PEOPLE)
    load(file="people.csv", columns=COLUMNS, delimiter=";", max_errors=2)
    with pytest.raises(
        FileFailed,
        match=r"2 lines were rejected, more than max_errors \(1\); first: line 3: points",
    ):
        load(file="people.csv", columns=COLUMNS, delimiter=";", max_errors=1)


def test_files_refused_whole_and_empty_files(db):
    stored("empty.csv", "")
    with pytest.raises(FileRefused, match="the file is empty"):
        load(file="empty.csv", columns=COLUMNS)
    stored("header.csv", "\ufeffId,Other\n")
    out, _ = load(file="header.csv", columns=[{"name": "id", "type": "integer"}])
    assert out["out"].count == 0 and out["rejects"].count == 0
    with pytest.raises(
        FileRefused, match=r"the file has no column points \(its columns: id, other\)"
    ):
        load(file="header.csv", columns=[{"name": "points"}])
    with pytest.raises(FileRefused, match="fewer than 5 lines"):
        load(file="header.csv", columns=[{"name": "id"}], skip_lines=5)


def test_validation_at_paths(db):
    stored("people.csv", PEOPLE)
    good = {"file": "people.csv", "columns": COLUMNS}
    assert errors("load_file", good) == set()
    assert errors("load_file", {**good, "file": "nope.csv"}) == {
        ("a[0].file", "no campaign file named 'nope.csv'")
    }
    assert errors("load_file", {**good, "date_format": "DD/MM"}) == {
        ("a[0].date_format", "needs YYYY (tokens: YYYY, MM, DD, HH24, MI, SS)")
    }
    assert errors("load_file", {**good, "delimiter": ";;"}) == {
        ("a[0].delimiter", "must have at most 1 characters")
    }
    twice = {**good, "columns": [{"name": "id"}, {"name": "id"}, {"name": "reason"}]}
    assert errors("load_file", twice) == {
        ("a[0].columns[1].name", "'id' is taken twice"),
        ("a[0].columns[2].name", "'reason' is the rejects' own column: name it otherwise"),
    }
    assert errors("load_file", {**good, "columns": [{"name": "x", "type": "money"}]}) == {
        (
            "a[0].columns[0].type",
            "must be one of string, text, integer, decimal, float, boolean, date, datetime",
        )
    }
    assert errors("load_file", {**good, "encoding": "utf-16"}) == {
        ("a[0].encoding", "must be one of utf-8, latin-1, cp1252")
    }


NUMBERS = [
    ("12", "1.", "YES"),
    ("+7", ".5", "Off"),
    ("-0007", "-2.25", "0"),
    ("1234567890123456789", "12345678901234.5", "t"),
    ("1_000", "1e3", "on"),
    ("0x1F", "NaN", "n"),
    ("1e3", "Infinity", "maybe"),
    ("9223372036854775808", "123456789012345.0", "true"),
    (" 5 ", "٣", "no"),
    ("1-2", "1.2.3", "-"),
]


def test_numbers_are_what_postgresql_reads_as_their_type_never_nan_nor_infinite(db):
    """A number column takes what PostgreSQL reads as its type (as an import's casts do):
    bigint's range, numeric(18, 4)'s 14 digits before the point; never NaN or an infinity.
    Checked without regular expressions, each line with its reasons."""
    new = connection.pg_version >= 160000  # reads 1_000 and 0x1F as integers, 1e3 as numeric
    stored("numbers.csv", "n;d;b\n" + "".join(";".join(line) + "\n" for line in NUMBERS))
    columns = [
        {"name": "n", "type": "integer"},
        {"name": "d", "type": "decimal"},
        {"name": "b", "type": "boolean"},
    ]
    out, ctx = load(file="numbers.csv", columns=columns, delimiter=";")
    loaded, rejected = rows(out["out"]), rows(out["rejects"])
    assert loaded == {
        2: {"n": 12, "d": Decimal("1"), "b": True},
        3: {"n": 7, "d": Decimal("0.5"), "b": False},
        4: {"n": -7, "d": Decimal("-2.25"), "b": False},
        5: {"n": 1234567890123456789, "d": Decimal("12345678901234.5"), "b": True},
        **({6: {"n": 1000, "d": Decimal("1000"), "b": True}} if new else {}),
    }
    assert {line: r["reason"] for line, r in rejected.items()} == {
        **({} if new else {6: "n: not an integer; d: not a decimal"}),
        7: "d: not a decimal" if new else "n: not an integer; d: not a decimal",
        8: "n: not an integer; d: not a decimal; b: not true or false",
        9: "n: not an integer; d: not a decimal",
        10: "d: not a decimal",
        11: "n: not an integer; d: not a decimal; b: not true or false",
    }
    assert rejected[7]["n"] == "0x1F" and rejected[9]["d"] == "123456789012345.0"
    assert ctx.state == {"loaded": len(loaded), "rejected": len(rejected)}
