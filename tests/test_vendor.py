"""The vendored front-end files are those ``static/VENDOR.md`` lists: every ``SHA256SUMS`` under
an app's ``static/<app>/vendor/`` matches the committed files (``make vendor`` fetches them
again; CI never runs npm), and every vendored folder is in the list."""

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sums():
    """The apps' lists (not collectstatic's copies in hidden folders such as .devdata/)."""
    found = ROOT.glob("*/static/*/vendor/*/SHA256SUMS")
    return sorted(p for p in found if not p.relative_to(ROOT).parts[0].startswith("."))


def test_every_vendored_file_matches_its_sum():
    assert sums(), "no vendored library"
    for listing in sums():
        for line in listing.read_text().splitlines():
            digest, name = line.split()
            path = listing.parent / name.lstrip("*")
            assert path.exists(), f"{path} is missing: make vendor"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} differs"


def test_every_vendored_folder_is_listed():
    listed = (ROOT / "static" / "VENDOR.md").read_text()
    for listing in sums():
        folder = listing.parent.relative_to(ROOT).as_posix() + "/"
        assert f"`{folder}`" in listed, f"{folder} is not in static/VENDOR.md"
