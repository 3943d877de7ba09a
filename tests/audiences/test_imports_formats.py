"""CSV imports that recover (issue 9): a malformed line is a reject of its row and the rest is
imported; encodings (utf-8, latin-1, cp1252) through the function, the command, the API and the
admin; an undecodable file fails whole, saying where."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from audiences import dynamic
from audiences.import_runs import run_import
from audiences.imports import ImportFailed, import_csv, rejects_by_row
from audiences.models import RecordImport, Schema
from tests.audiences.test_records_support import define

MALFORMED = (
    "customer_id,loyalty_points,email\n"
    "c1,1,a@x.org\n"  # row 1
    "c2,2,b@x.org,extra\n"  # row 2: a field too many
    "c3,3\n"  # row 3: a field missing
    'c4,4,"two\nlines"\n'  # row 4: a quoted line break, well formed
    'c5,5,"open quote\n'  # row 5: a quote never closed
    "\n"  # row 6: empty
    'c7,7,"with ""quotes"", and a comma"\n'  # row 7
    "c8,8,\n"  # row 8
)


def run(text, *, encoding="utf-8", data=None, **options):
    schema = Schema.objects.get(name=options.pop("schema", "customer"))
    stream = io.BytesIO(data if data is not None else text.encode(encoding))
    return import_csv(schema=schema, stream=stream, encoding=encoding, **options)


def customers():
    return {c.pk: c for c in dynamic.get_model("customer").objects.all()}


@pytest.fixture
def schemas(db):
    define()


@pytest.mark.parametrize("populated", [False, True], ids=["first load", "staged"])
def test_malformed_lines_are_rejected_with_their_row_and_the_rest_is_imported(schemas, populated):
    if populated:
        run("customer_id,loyalty_points\nc0,0\n")
    rows, outcome = run(MALFORMED)
    assert rows == 8 and outcome.path == "staged"
    assert rejects_by_row(outcome) == [
        {"row": 2, "message": "expected 3 fields, found 4"},
        {"row": 3, "message": "expected 3 fields, found 2"},
        {"row": 5, "message": "unterminated quoted field"},
        {"row": 6, "message": "empty line"},
    ]
    stored = customers()
    assert sorted(stored) == sorted(["c1", "c4", "c7", "c8"] + (["c0"] if populated else []))
    assert stored["c4"].email == "two\nlines"
    assert stored["c7"].email == 'with "quotes", and a comma'
    assert stored["c8"].email is None and stored["c7"].loyalty_points == 7


def test_a_malformed_line_and_a_bad_value_are_both_rejected(schemas):
    _rows, outcome = run("customer_id,loyalty_points\nc1,x\nc2,2,2\nc3,3\n")
    assert rejects_by_row(outcome) == [
        {"row": 1, "message": "loyalty_points: not an integer"},
        {"row": 2, "message": "expected 2 fields, found 3"},
    ]
    assert list(customers()) == ["c3"]


def test_an_unterminated_quote_at_the_end_rejects_only_its_row(schemas):
    _rows, outcome = run('customer_id,loyalty_points\nc1,1\nc2,"2\n')
    assert rejects_by_row(outcome) == [{"row": 2, "message": "unterminated quoted field"}]
    assert list(customers()) == ["c1"]


def test_a_latin_1_file_read_as_utf_8_fails_saying_where_and_writes_nothing(schemas):
    text = "customer_id,loyalty_points,email\nc1,1,a@x.org\nc2,2,andré@x.org\n"
    with pytest.raises(ImportFailed) as failure:
        run(text, data=text.encode("latin-1"))
    message = str(failure.value)
    offset = text.encode("latin-1").index(b"\xe9")
    assert f"not valid utf-8 at byte {offset} (line 3" in message
    assert "latin-1, cp1252" in message and customers() == {}


@pytest.mark.parametrize(
    ("encoding", "value"), [("latin-1", "Zoë Øre"), ("cp1252", "€uro “quoted”")]
)
def test_encodings_are_converted(schemas, encoding, value):
    header = "customer_id,loyalty_points,email\n".replace("email", "email")
    _rows, outcome = run(f"{header}c1,1,{value}\n", encoding=encoding)
    assert outcome.written == 1 and customers()["c1"].email == value


def test_cp1252_bytes_with_no_character_and_nul_bytes_fail_with_their_position(schemas):
    with pytest.raises(ImportFailed, match=r"not valid cp1252 at byte 28 \(line 2"):
        run("", encoding="cp1252", data=b"customer_id,loyalty_points\nc\x81,1\n")
    with pytest.raises(ImportFailed, match=r"NUL byte at byte 30 \(line 2\)"):
        run("", data=b"customer_id,loyalty_points\nc1,\x00\n")
    with pytest.raises(ImportFailed, match=r"not valid utf-8 at byte 39 \(line 3"):
        run("", data=b"customer_id,loyalty_points\nc1,1,extra\nc\xe9,2\n")  # malformed, then
    with pytest.raises(ImportFailed, match=r"data row 1: .*0x01 or 0x02"):
        run("", data=b"customer_id,loyalty_points\nc1,1,\x01\nc2,2\n")
    with pytest.raises(ImportFailed, match=r"header \(line 1\) is not valid utf-8 at byte 1"):
        run("", data=b"c\xe9,x\n")
    assert customers() == {}


def test_the_command_takes_the_encoding_and_says_where_a_file_is_undecodable(schemas, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("customer_id,loyalty_points,email\nc1,1,é@x.org\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"not valid utf-8 at byte \d+ \(line 2"):
        call_command("import_records", "customer", str(path))
    assert RecordImport.objects.get().status == "failed"
    call_command("import_records", "customer", str(path), "--encoding", "latin-1")
    assert customers()["c1"].email == "é@x.org"


@pytest.mark.django_db
def test_the_api_takes_the_encoding_and_refuses_an_unknown_one(api_client, settings):
    define()
    latin = "customer_id,loyalty_points,email\nc1,1,é@x.org\n".encode("latin-1")

    def post(**fields):
        upload = SimpleUploadedFile("c.csv", latin, "text/csv")
        return api_client.post(
            "/api/schemas/customer/imports/", {"file": upload, **fields}, format="multipart"
        )

    response = post(encoding="ebcdic")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "encoding", "message": "must be one of ['utf-8', 'latin-1', 'cp1252']"}
    ]
    failed = post().json()["id"]
    run_import(failed)
    body = api_client.get(f"/api/schemas/customer/imports/{failed}/").json()
    assert body["status"] == "failed" and "not valid utf-8 at byte" in body["error"]
    done = post(encoding="latin-1").json()["id"]
    run_import(done)
    assert RecordImport.objects.get(pk=done).status == "succeeded"
    assert customers()["c1"].email == "é@x.org"


@pytest.mark.django_db
def test_the_admin_form_puts_a_bad_option_beside_its_field(client):
    define()
    client.force_login(User.objects.create_superuser("boss", "boss@x.org", "pw"))
    page = client.post(
        "/admin/audiences/recordimport/data/customer/import/",
        {"file": SimpleUploadedFile("c.csv", b"customer_id\n"), "encoding": "klingon"},
    ).content.decode()
    assert 'id="error-encoding">must be one of' in page and not RecordImport.objects.exists()
    form = client.get("/admin/audiences/recordimport/data/customer/import/").content.decode()
    assert '<option value="cp1252">' in form
