"""``reconciliation`` against hand-written SQL: a loaded file's lines onto a schema by attribute
pairs (duplicates, empty values, no match, several matches), from a population too,
``keep_unreconciled``, validation at paths."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audiences.shapes import Shape
from campaigns import files
from config.access import SYSTEM
from tests.campaigns.contacts import contacts  # noqa: F401 - fixture
from tests.campaigns.targeting import audience, errors, keys, rows, shape, sql_keys, step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("contacts")]

LINES = b"email,code\nann@example.com,A\nbob@example.com,B\nnobody@x.org,C\n,D\nann@example.com,E\n"
PAIRS = [{"column": "email", "attribute": "email"}]


def loaded():
    files.upload(upload=SimpleUploadedFile("f.csv", LINES), name="f.csv", user=SYSTEM)
    out, _ = step("load_file", {"file": "f.csv", "columns": [{"name": "email"}, {"name": "code"}]})
    return out["out"]


def test_lines_onto_records_and_unreconciled_lines_with_reasons():
    out, ctx = step("reconciliation", {"schema": "contacts", "pairs": PAIRS}, loaded())
    assert (
        keys(out["out"])
        == sql_keys(
            "SELECT contact_id FROM data_contacts WHERE email IN ('ann@example.com') "
            "AND email IN (SELECT email FROM data_contacts GROUP BY email HAVING count(*) = 1)"
        )
        == ["k3"]
    )
    assert rows(out["out"]) == {"k3": {"email": "ann@example.com", "code": "A"}}, "the first line"
    assert out["out"].schema.name == "contacts"
    assert {line: r["reason"] for line, r in rows(out["rejects"]).items()} == {
        3: "matches 2 contacts records",
        4: "no contacts matches",
        5: "email is empty",
    }
    assert ctx.state == {"unreconciled": 3}
    dropped, ctx = step(
        "reconciliation",
        {"schema": "contacts", "pairs": PAIRS, "keep_unreconciled": False},
        loaded(),
    )
    assert dropped["rejects"] is None and ctx.state == {"unreconciled": 3}


def test_all_pairs_must_match_and_a_population_as_input():
    pairs = [{"column": "email", "attribute": "email"}, {"column": "plan", "attribute": "plan"}]
    out, _ = step("reconciliation", {"schema": "contacts", "pairs": pairs}, audience("contacts"))
    assert (
        keys(out["out"])
        == sql_keys(
            "SELECT a.contact_id FROM data_contacts a WHERE (SELECT count(*) FROM data_contacts b "
            "WHERE b.email = a.email AND b.plan = a.plan) = 1"
        )
        == ["k1", "k2", "k3", "k6", "k7", "k8"]
    ), "bob twice, but on different plans"
    assert set(rows(out["rejects"])) == {"k4", "k5"}
    assert rows(out["rejects"])["k4"]["reason"] == "email is empty"


def test_empty_input():
    nobody = audience("contacts", {"field": "score", "op": "gt", "value": 99})
    out, _ = step("reconciliation", {"schema": "contacts", "pairs": PAIRS}, nobody)
    assert out["out"].count == 0 and out["rejects"].count == 0


def test_validation_at_paths():
    file_rows = Shape.file({"email": "string", "n": "integer"})
    options = {"schema": "contacts", "pairs": PAIRS}
    assert errors("reconciliation", options, file_rows) == set()
    assert errors(
        "reconciliation", {**options, "pairs": [{"column": "n", "attribute": "email"}]}, file_rows
    ) == {("a[0].pairs[0].column", "a integer column cannot match a string attribute")}
    assert errors(
        "reconciliation", {**options, "pairs": [{"column": "zz", "attribute": "email"}]}, file_rows
    ) == {("a[0].pairs[0].column", "the file has no column 'zz' (its columns: email, n)")}
    assert errors(
        "reconciliation", {**options, "pairs": [{"column": "email", "attribute": "zz"}]}, file_rows
    ) == {("a[0].pairs[0].attribute", "contacts has no attribute 'zz'")}
    assert errors("reconciliation", {**options, "pairs": []}, file_rows) == {
        ("a[0].pairs", "must not be empty")
    }
    from campaigns.activities import registry

    assert registry.get("reconciliation").outputs(options, {"a": file_rows}) == {
        "out": shape("contacts", email="string", n="integer"),
        "rejects": Shape.file({"email": "string", "n": "integer", "reason": "string"}),
    }


def test_pairs_on_the_primary_key_match_one_record_each():
    """With the primary key among the pairs no line can match several records: each output is
    one join; the first line of a record gives its columns; the reasons are the same."""
    body = b"id,email,code\nk1,,A\nk3,ann@example.com,B\nk1,,C\nk99,,D\n,,E\nk2,bob@x.org,F\n"
    files.upload(upload=SimpleUploadedFile("ids.csv", body), name="ids.csv", user=SYSTEM)
    columns = [{"name": "id"}, {"name": "email"}, {"name": "code"}]
    lines, _ = step("load_file", {"file": "ids.csv", "columns": columns})
    pairs = [{"column": "id", "attribute": "contact_id"}]
    out, ctx = step("reconciliation", {"schema": "contacts", "pairs": pairs}, lines["out"])
    assert keys(out["out"]) == ["k1", "k2", "k3"]
    assert rows(out["out"])["k1"]["code"] == "A", "the first line"
    assert {line: r["reason"] for line, r in rows(out["rejects"]).items()} == {
        5: "no contacts matches",
        6: "id is empty",
    }
    assert ctx.state == {"unreconciled": 2}
    both = [*pairs, {"column": "email", "attribute": "email"}]
    out, _ = step("reconciliation", {"schema": "contacts", "pairs": both}, lines["out"])
    assert keys(out["out"]) == ["k3"]
    assert {line: r["reason"] for line, r in rows(out["rejects"]).items()} == {
        2: "email is empty",
        4: "email is empty",
        5: "email is empty",
        6: "id is empty",
        7: "no contacts matches",
    }
