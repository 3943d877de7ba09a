"""Front-end libraries from the npm registry, fetched again reproducibly (``make vendor``).

The one list is ``static/VENDOR.md``: a Markdown table whose rows name a package, its pinned
version, its licence, a file inside the package, where that file is committed and its SHA-256.
``python -m config.vendor`` runs ``npm pack PACKAGE@VERSION`` for each package (the ordinary
client, so the registry configured for npm is used), copies each listed file to its place and
refuses (exit status 1, nothing copied for that row) a file whose SHA-256 differs from the list's;
``--update`` writes the new digests into the list instead (after a version change).
``--check`` only compares the committed files with the list, without npm (the test suite runs
it: CI never runs npm).
"""

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "static" / "VENDOR.md"
COLUMNS = ("package", "version", "licence", "file", "committed as", "sha256")


@dataclass
class Row:
    package: str
    version: str
    licence: str
    file: str
    target: str
    sha256: str

    @property
    def path(self) -> Path:
        return ROOT / self.target


def rows(text: str | None = None) -> list[Row]:
    """The rows of the table in ``static/VENDOR.md`` (the one whose header is ``COLUMNS``)."""
    found, inside = [], False
    for line in (text if text is not None else LIST.read_text()).splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if tuple(c.lower() for c in cells) == COLUMNS:
            inside = True
        elif inside and line.startswith("|") and not set(line) <= set("|-: "):
            found.append(Row(*cells))
        elif inside and not line.startswith("|"):
            inside = False
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check() -> list[str]:
    """Problems of the committed files against the list (missing, or another digest)."""
    problems = []
    for row in rows():
        if not row.path.exists():
            problems.append(f"{row.target}: missing (make vendor)")
        elif digest(row.path) != row.sha256:
            problems.append(f"{row.target}: SHA-256 differs from static/VENDOR.md")
    return problems


def _unpack(package: str, version: str, into: Path) -> Path:
    subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}"],
        cwd=into,
        check=True,
        stdout=subprocess.PIPE,
    )
    (archive,) = into.glob("*.tgz")
    with tarfile.open(archive) as tar:
        tar.extractall(into / "unpacked", filter="data")
    return into / "unpacked" / "package"


def _with_digest(text: str, row: Row, fresh: str) -> str:
    """``text`` with the digest cell of ``row``'s line (``-`` for a new row) set to ``fresh``."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if row.target in line and line.startswith("|"):
            head, _old, tail = line.rstrip("\n").rstrip().rstrip("|").rpartition("|")
            lines[index] = f"{head}| `{fresh}` |\n"
    return "".join(lines)


def fetch(update: bool = False) -> list[str]:
    """Fetch every package of the list and copy its files; the problems found."""
    problems, text = [], LIST.read_text()
    packages = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows():
            key = (row.package, row.version)
            if key not in packages:
                where = Path(tmp) / f"{len(packages)}"
                where.mkdir()
                packages[key] = _unpack(row.package, row.version, where)
            source = packages[key] / row.file
            fresh = hashlib.sha256(source.read_bytes()).hexdigest()
            if fresh != row.sha256 and not update:
                problems.append(f"{row.package}@{row.version} {row.file}: SHA-256 {fresh} differs")
                continue
            row.path.parent.mkdir(parents=True, exist_ok=True)
            row.path.write_bytes(source.read_bytes())
            if fresh != row.sha256:
                text = _with_digest(text, row, fresh)
                print(f"{row.target}: SHA-256 updated to {fresh}")
    if update:
        LIST.write_text(text)
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only, without npm")
    parser.add_argument("--update", action="store_true", help="write new digests into the list")
    args = parser.parse_args(argv)
    problems = check() if args.check else fetch(update=args.update)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(rows())} vendored files match static/VENDOR.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
