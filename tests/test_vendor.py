"""The vendored front-end files match their one list, ``static/VENDOR.md`` (``make vendor``
fetches them again; CI never runs npm)."""

from config import vendor


def test_every_vendored_file_matches_the_list():
    assert vendor.rows(), "static/VENDOR.md lists no file"
    assert vendor.check() == []


def test_the_list_is_read_from_its_table():
    text = (
        "| package | version | licence | file | committed as | sha256 |\n|---|---|---|---|---|---|\n"
        "| a | 1.0.0 | MIT | a.js | x/a.js | `abc` |\n\nafter\n| not | a | row |\n"
    )
    (row,) = vendor.rows(text)
    assert (row.package, row.version, row.licence, row.file, row.target, row.sha256) == (
        "a", "1.0.0", "MIT", "a.js", "x/a.js", "abc",
    )  # fmt: skip


def test_a_changed_file_is_reported(tmp_path, monkeypatch):
    (tmp_path / "static").mkdir()
    (tmp_path / "f.js").write_text("changed")
    (tmp_path / "static" / "VENDOR.md").write_text(
        "| package | version | licence | file | committed as | sha256 |\n|---|---|---|---|---|---|\n"
        "| a | 1 | MIT | f.js | f.js | `0000` |\n| a | 1 | MIT | g.js | g.js | `0000` |\n"
    )
    monkeypatch.setattr(vendor, "ROOT", tmp_path)
    monkeypatch.setattr(vendor, "LIST", tmp_path / "static" / "VENDOR.md")
    assert vendor.check() == [
        "f.js: SHA-256 differs from static/VENDOR.md",
        "g.js: missing (make vendor)",
    ]
