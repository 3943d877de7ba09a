"""CSV imports (design 5.2) through the command and the import function: rejects with row numbers,
whole-file refusals, version_field, deletes, two imports at once."""

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from audiences import dynamic
from audiences.imports import ImportFailed, import_csv, rejects_by_row
from audiences.models import RecordImport, Schema
from config import audit
from tests.audiences.test_records_support import define, drop_data_tables

HEADER = "customer_id,email,country,birth_date,loyalty_points,balance,vip,store_id,updated_at\n"


def run(text, **options):
    schema = Schema.objects.get(name=options.pop("schema", "customer"))
    return import_csv(schema=schema, stream=io.BytesIO(text.encode()), **options)


def customers():
    return {c.pk: c for c in dynamic.get_model("customer").objects.all()}


@pytest.fixture
def data_tables():
    drop_data_tables()
    yield
    drop_data_tables()


@pytest.fixture
def schemas(db):
    define()
    run("store_id,city\ns1,Paris\ns2,Lyon\n", schema="store")


def test_a_good_file_through_the_command(schemas, tmp_path, capsys, staff_user, client):
    path = tmp_path / "customers.csv"
    path.write_text(
        HEADER
        + "c1,a@x.org,FR,1990-01-31,10,12.50,true,s1,2026-01-01T00:00:00Z\n"
        + 'c2,"b,@x.org",DE,,0,,no,s2,\n'
    )
    call_command("import_records", "customer", str(path))
    out = capsys.readouterr().out
    assert "2 rows read, 2 written (0 unchanged), 0 skipped as older, 0 rejected" in out
    record_import = RecordImport.objects.get()  # in the import history and the audit trail
    assert (record_import.origin, record_import.status, record_import.written) == (
        "command",
        "succeeded",
        2,
    )
    assert record_import.original_name == "customers.csv" and not record_import.file
    assert "succeeded: 2 written" in audit.describe(audit.entries(obj=record_import)[0])["message"]
    client.force_login(staff_user)
    history = client.get("/admin/audiences/recordimport/").content.decode()
    assert "customers.csv" in history and "command" in history
    rows = customers()
    assert rows["c2"].email == "b,@x.org" and rows["c2"].birth_date is None
    assert str(rows["c1"].balance) == "12.50" and rows["c1"].store_id == "s1"


def test_a_bad_file_gives_rejects_with_row_numbers_and_writes_the_good_rows(schemas, tmp_path):
    text = HEADER + "\n".join(
        [
            "c1,a@x.org,FR,1990-01-31,10,1.5,true,s1,",  # row 1: good
            "c2,,XX,1990-02-30,ten,,maybe,s9,yesterday",  # row 2: five problems
            "c3,,FR,,,,,,",  # row 3: required loyalty_points missing
            "c1,dup@x.org,FR,,3,,,,",  # row 4: same key as row 1
            ",,FR,,3,,,,",  # row 5: no key
            "c6,,,,4,123456789.5,,,",  # row 6: decimal too large
        ]
    )
    rows, outcome = run(text + "\n")
    assert rows == 6 and outcome.written == 1 and outcome.rejected == 5
    by_row = {r["row"]: r["message"] for r in rejects_by_row(outcome)}
    assert by_row[2] == (
        "birth_date: not a date (YYYY-MM-DD); country: not one of: FR, DE, US; "
        "loyalty_points: not an integer; updated_at: not an ISO 8601 date-time; vip: not true or false"
    )
    assert by_row[3] == "loyalty_points: required"
    assert by_row[4] == "customer_id: duplicate key: same as row 1"
    assert by_row[5] == "customer_id: required"
    assert by_row[6].startswith("balance: not a decimal")
    assert list(customers()) == ["c1"] and customers()["c1"].email == "a@x.org"


def test_missing_links_are_rejected_or_accepted(schemas):
    text = "customer_id,loyalty_points,store_id\nc1,1,s1\nc2,1,nowhere\n"
    _rows, outcome = run(text)
    assert rejects_by_row(outcome) == [{"row": 2, "message": "store_id: no store with this key"}]
    _rows, outcome = run(text, missing_links="accept")
    assert outcome.written == 2 and customers()["c2"].store_id == "nowhere"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("customer_id,loyalty_points,colour\n", "unknown columns: colour"),
        ("customer_id,email\n", "missing required columns: loyalty_points"),
        ("customer_id,loyalty_points,email,email\n", "columns named twice: email"),
        ("", "the file is empty"),
    ],
)
def test_files_refused_whole_say_why_and_write_nothing(schemas, text, message):
    with pytest.raises(ImportFailed, match=message):
        run(text)
    assert customers() == {}


def test_command_reports_a_refused_file(schemas, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,colour\n")
    with pytest.raises(CommandError, match="unknown columns: colour"):
        call_command("import_records", "customer", str(path))
    assert RecordImport.objects.get().status == "failed"


def test_version_field_and_change_request_type(schemas):
    run("customer_id,loyalty_points,updated_at\nc1,5,2026-05-01T00:00Z\nc2,1,\nc3,1,\n")
    _rows, outcome = run(
        "customer_id,loyalty_points,updated_at,_change_request_type\n"
        "c1,1,2026-04-01T00:00Z,u\n"  # older than stored: skipped
        "c2,2,,d\n"  # deleted
        "c4,4,2026-04-01T00:00Z,\n"  # empty: the import's mode
        "c3,3,,x\n"  # bad op
    )
    assert (outcome.written, outcome.skipped_older, outcome.rejected) == (2, 1, 1)
    assert rejects_by_row(outcome) == [
        {"row": 4, "message": "_change_request_type: _change_request_type must be u or d"}
    ]
    rows = customers()
    assert sorted(rows) == ["c1", "c3", "c4"] and rows["c1"].loyalty_points == 5


def test_delete_mode_needs_only_the_key(schemas):
    run("customer_id,loyalty_points\nc1,1\nc2,1\n")
    _rows, outcome = run("customer_id\nc1\n", mode="delete")
    assert outcome.written == 1 and list(customers()) == ["c2"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_imports_into_one_schema_end_consistent(data_tables):
    define()
    keys = range(3000)
    files = {
        name: "customer_id,loyalty_points\n" + "".join(f"k{i},{points}\n" for i in keys)
        for name, points in (("first", 1), ("second", 2))
    }
    results, barrier = {}, threading.Barrier(2)

    def worker(name):
        try:
            barrier.wait()
            results[name] = run(files[name])[1]
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[n].written for n in files] == [3000, 3000]
    values = set(dynamic.get_model("customer").objects.values_list("loyalty_points", flat=True))
    assert len(values) == 1  # one import wrote last, entirely
    assert dynamic.get_model("customer").objects.count() == 3000


def test_a_bulk_load_rebuilds_the_secondary_indexes(schemas, monkeypatch):
    from audiences.services import records

    def indexes():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'data_customer'"
            )
            return sorted(cursor.fetchall())

    before = indexes()
    assert len(before) >= 3  # key, email, store link
    monkeypatch.setattr(records, "BULK_ROWS", 2)
    rows, outcome = run("customer_id,loyalty_points,email\nc1,1,a@x.org\nc2,2,b@x.org\nc3,x,\n")
    assert (outcome.written, outcome.rejected) == (2, 1)  # typed retry after a failed cast
    assert indexes() == before
    assert dynamic.get_model("customer").objects.filter(email="b@x.org").count() == 1


def test_a_bulk_load_into_an_empty_table_still_rejects_duplicate_keys(schemas, monkeypatch):
    from audiences.services import records

    monkeypatch.setattr(records, "BULK_ROWS", 2)
    _rows, outcome = run("customer_id,loyalty_points\nc1,1\nc2,2\nc1,3\n")
    assert (outcome.written, outcome.rejected) == (2, 1)
    assert rejects_by_row(outcome) == [
        {"row": 3, "message": "customer_id: duplicate key: same as row 1"}
    ]
    assert customers()["c1"].loyalty_points == 1
