"""The first load of an empty table (issue 10): written once by COPY into the typed table, keys
and indexes built after; any bad value or failed check falls back to the staging path, whose
rejects are exact, and leaves the table as it was (indexes included)."""

import io

import pytest
from django.db import connection

from audiences import dynamic
from audiences.imports import import_csv, rejects_by_row
from audiences.models import Schema
from tests.audiences.test_records_support import define

HEADER = "customer_id,email,country,loyalty_points,balance,vip,store_id,updated_at\n"


def run(text, **options):
    schema = Schema.objects.get(name=options.pop("schema", "customer"))
    return import_csv(schema=schema, stream=io.BytesIO(text.encode()), **options)


def customers():
    return {c.pk: c for c in dynamic.get_model("customer").objects.all()}


def indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'data_customer'"
        )
        return sorted(cursor.fetchall())


@pytest.fixture
def schemas(db):
    define()
    run("store_id,city\ns1,Paris\ns2,Lyon\n", schema="store")
    return indexes()


def test_a_clean_first_load_is_written_once_with_its_key_and_indexes(schemas):
    rows, outcome = run(
        HEADER
        + "c1,a@x.org,FR,10,12.50,true,s1,2026-01-01T00:00:00Z\n"
        + 'c2,"b,@x.org",DE,0,,no,s2,\n'
        + "c3,,,5,,,,\n"
    )
    assert (rows, outcome.written, outcome.rejected, outcome.path) == (3, 3, 0, "first_load")
    assert indexes() == schemas and any("PRIMARY KEY" in d or "pkey" in n for n, d in schemas)
    stored = customers()
    assert str(stored["c1"].balance) == "12.50" and stored["c1"].vip is True
    assert stored["c2"].email == "b,@x.org" and stored["c3"].store_id is None
    with connection.cursor() as cursor:  # the key is enforced again
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'data_customer'::regclass"
        )
        assert cursor.fetchone()[0] >= 1
    _rows, again = run("customer_id,loyalty_points\nc1,99\n")  # not empty any more
    assert again.path == "upsert" and customers()["c1"].loyalty_points == 99


@pytest.mark.parametrize(
    ("lines", "rejects"),
    [
        (["c1,,,1,,,s1,", "c2,,,x,,,s1,"], {2: "loyalty_points: not an integer"}),
        (["c1,,,1,,,s1,", "c2,,XX,2,,,s1,"], {2: "country: not one of: FR, DE, US"}),
        (["c1,,,1,,,s1,", "c2,,,,,,s1,"], {2: "loyalty_points: required"}),
        (["c1,,,1,,,s1,", '"",,,2,,,s1,'], {2: "customer_id: required"}),
        (["c1,,,1,,,s1,", "c1,,,2,,,s2,"], {2: "customer_id: duplicate key: same as row 1"}),
        (["c1,,,1,,,s1,", "c2,,,2,,,s9,"], {2: "store_id: no store with this key"}),
    ],
    ids=["type", "enum", "required", "empty key", "duplicate key", "missing link"],
)
def test_a_first_load_with_a_bad_row_falls_back_to_exact_rejects(schemas, lines, rejects):
    rows, outcome = run(HEADER + "\n".join(lines) + "\n")
    assert (rows, outcome.written, outcome.path) == (2, 1, "staged")
    assert {r["row"]: r["message"] for r in rejects_by_row(outcome)} == rejects
    assert list(customers()) == ["c1"] and customers()["c1"].loyalty_points == 1
    assert indexes() == schemas


def test_integers_take_bigint_s_whole_range_on_every_path(schemas):
    """The fast paths read integers as PostgreSQL's bigint does; the staging path's check, which
    finds the exact rejects, takes the same 19-digit range and no more."""
    biggest, smallest = 2**63 - 1, -(2**63)
    lines = [f"c1,,,{biggest},,,s1,", f"c2,,,{biggest + 1},,,s1,", f"c3,,,{smallest},,,s1,"]
    _rows, outcome = run(HEADER + "\n".join(lines) + "\n")
    assert outcome.path == "staged"
    assert {r["row"]: r["message"] for r in rejects_by_row(outcome)} == {
        2: "loyalty_points: not an integer"
    }
    points = {k: c.loyalty_points for k, c in customers().items()}
    assert points == {"c1": biggest, "c3": smallest}


def test_missing_links_accepted_stay_on_the_first_load(schemas):
    _rows, outcome = run(
        "customer_id,loyalty_points,store_id\nc1,1,nowhere\n", missing_links="accept"
    )
    assert (outcome.written, outcome.path) == (1, "first_load")
    assert customers()["c1"].store_id == "nowhere"


def test_duplicate_keys_in_a_first_load_keep_the_first_whatever_the_version(schemas):
    _rows, outcome = run(
        "customer_id,loyalty_points,updated_at\n"
        "c1,1,2026-01-01T00:00:00Z\n"
        "c1,2,2026-06-01T00:00:00Z\n"
    )
    assert outcome.path == "staged" and outcome.rejected == 1
    assert customers()["c1"].loyalty_points == 1


def test_version_field_after_a_first_load(schemas):
    _rows, first = run("customer_id,loyalty_points,updated_at\nc1,1,2026-05-01T00:00:00Z\nc2,2,\n")
    assert first.path == "first_load"
    _rows, second = run(
        "customer_id,loyalty_points,updated_at\n"
        "c1,5,2026-04-01T00:00:00Z\n"  # older than stored: skipped
        "c2,6,2026-04-01T00:00:00Z\n"
    )
    assert (second.written, second.skipped_older) == (1, 1)
    assert customers()["c1"].loyalty_points == 1 and customers()["c2"].loyalty_points == 6


PEOPLE = {  # a schema with a link into itself
    "schemas": [
        {
            "name": "person",
            "primary_key": "person_id",
            "attributes": [
                {"name": "person_id", "type": "integer"},
                {"name": "sponsor_id", "type": "integer"},
            ],
            "links": [
                {"name": "sponsor", "to": "person", "via": "sponsor_id", "reverse": "sponsored"}
            ],
        }
    ]
}


def test_a_link_into_the_same_schema_is_checked_against_the_file(db):
    define(PEOPLE)
    _rows, outcome = run("person_id,sponsor_id\n1,\n2,1\n3,2\n", schema="person")
    assert (outcome.written, outcome.path) == (3, "first_load")
    dynamic.get_model("person").objects.all().delete()
    _rows, outcome = run("person_id,sponsor_id\n1,\n2,7\n", schema="person")
    assert outcome.path == "staged"
    assert rejects_by_row(outcome) == [{"row": 2, "message": "sponsor_id: no person with this key"}]


def test_no_pattern_twin_index_where_the_plain_index_serves_like(schemas):
    from audiences.ddl import sorts_by_code_point

    twins = [n for n, _d in schemas if "like" in n]
    assert [n for n, _d in schemas if "email" in n]
    if sorts_by_code_point():  # the embedded server's builtin C.UTF-8 provider
        assert not twins
    else:  # a server with a linguistic collation (e.g. the machine's own PostgreSQL 15)
        assert twins
    run("customer_id,loyalty_points,email\n" + "".join(f"c{i},1,u{i}@x.org\n" for i in range(500)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE data_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT 1 FROM data_customer WHERE email LIKE 'u12%'")
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "email" in plan and "Index" in plan
