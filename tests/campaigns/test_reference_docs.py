"""The generated parts of docs/ say what the code says: a change to a kind's options without
``make docs`` fails here."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns import reference_docs


def test_the_generated_docs_are_current():
    assert reference_docs.stale() == [], "docs/ is stale: run make docs"


def test_every_built_in_kind_and_option_is_documented():
    text = (reference_docs.DOCS / "activities.md").read_text()
    for kind in reference_docs.built_in_kinds():
        assert f"### `{kind.type}`" in text
        for name in kind.options.get("properties", {}):
            assert f"| `{name}` |" in text, (kind.type, name)
    assert "| `subsets[].where` |" in text


def test_the_check_fails_on_a_stale_file(tmp_path, monkeypatch):
    monkeypatch.setattr(reference_docs, "DOCS", tmp_path)
    with pytest.raises(CommandError, match="stale: activities.md"):
        call_command("build_docs", "--check")
    out = StringIO()
    call_command("build_docs", stdout=out)
    assert "wrote docs/activities.md" in out.getvalue()
    call_command("build_docs", "--check", stdout=out)
    assert "up to date" in out.getvalue()
