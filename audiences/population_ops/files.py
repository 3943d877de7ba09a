"""Loading a CSV file into a set of rows (``load_file``, design 5.4), in constant memory.

``load(*, open_stream, columns, delimiter=",", header=True, encoding="utf-8", skip_lines=0,
date_format=None, time_zone="UTC", label="") -> (rows, rejects)``

- ``open_stream()`` returns a new binary stream of the file (called twice at most).
- ``columns``: definitions (``file_values``); with ``header`` they are found by name in the
  header line (compared after normalizing: ``"E-mail"`` is ``e_mail``; other columns of the file
  are ignored; a missing one refuses the file), else by position (the file has exactly as many
  fields). ``skip_lines`` lines come before the header (or the data).
- ``rows``: a population without schema, keyed by line number, one typed column per definition.
- ``rejects``: the refused lines, keyed by line number, with ``reason`` and the raw text of each
  defined column (strings). Line numbers count every line of the file from 1 (skipped lines and
  the header included; a quoted value spanning lines counts as one).

The file is streamed in 1 MiB chunks into ``COPY ... FROM STDIN (FORMAT csv)``; when a line has a
wrong number of fields or bytes that are not of ``encoding``, ``COPY`` fails and the file is
streamed again through Python's csv reader, which stages such lines as rejects. Conversion and
checks are SQL over the staged text (``file_values``); both sets are written by one statement.
``FileRefused`` is raised for a file refused whole (empty, header without a defined column).
"""

import codecs
import csv
import re

import psycopg
from django.db import connection

from audiences.population_ops import file_values, tables
from config.errors import DomainError

CHUNK = 1 << 20
ENCODINGS = {"utf-8": "UTF8", "latin-1": "LATIN1", "cp1252": "WIN1252"}
BOM = codecs.BOM_UTF8


class FileRefused(DomainError):
    """The whole file is refused; the message says why."""


def normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


class _Layout:
    """Where each defined column is in the file's lines, and how many lines precede the data."""

    def __init__(self, columns, header_names, offset):
        self.offset = offset
        if header_names is None:
            self.width, self.positions = len(columns), list(range(len(columns)))
            return
        names = [normalize(n) for n in header_names]
        missing = [c["name"] for c in columns if c["name"] not in names]
        if missing:
            found = ", ".join(n for n in names if n) or "none"
            raise FileRefused(f"the file has no column {', '.join(missing)} (its columns: {found})")
        self.width, self.positions = len(names), [names.index(c["name"]) for c in columns]


def _read_layout(stream, columns, *, delimiter, header, encoding, skip_lines):
    first = True
    for _ in range(skip_lines):
        if not stream.readline():
            raise FileRefused(f"the file has fewer than {skip_lines} lines to skip")
        first = False
    if not header:
        prefix = stream.read(len(BOM)) if first else b""
        return _Layout(columns, None, skip_lines), b"" if prefix == BOM else prefix
    line = stream.readline()
    if first and line.startswith(BOM):
        line = line[len(BOM) :]
    if not line.strip():
        raise FileRefused("the file is empty: the first line must name the columns")
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError:
        raise FileRefused(f"the header line is not {encoding}") from None
    names = next(csv.reader([text], delimiter=delimiter))
    return _Layout(columns, names, skip_lines + 1), b""


def _stage(cursor, width):
    """``_load``: ``_line`` (the record's number, from 1), ``_bad`` (why the line is unreadable)
    and one text column per field; dropped at commit."""
    fields = ", ".join(f"f_{i} text" for i in range(width))
    cursor.execute("DROP TABLE IF EXISTS _load")
    cursor.execute(f"CREATE TEMP TABLE _load (_line bigserial, _bad text, {fields}) ON COMMIT DROP")


def _copy_fast(cursor, stream, prefix, layout, delimiter, encoding):
    fields = ", ".join(f"f_{i}" for i in range(layout.width))
    options = f"FORMAT csv, DELIMITER {_quote(delimiter)}, ENCODING '{ENCODINGS[encoding]}'"
    with cursor.cursor.copy(f"COPY _load ({fields}) FROM STDIN ({options})") as copy:
        if prefix:
            copy.write(prefix)
        while chunk := stream.read(CHUNK):
            copy.write(chunk)


def _quote(text):
    return "'" + text.replace("'", "''") + "'"


def _decoded_lines(stream, encoding, bad):
    """Decoded lines; a line that does not decode becomes an empty line noted in ``bad``."""
    number = 0
    for raw in iter(stream.readline, b""):
        number += 1
        try:
            text = raw.decode(encoding)
            yield text.lstrip("\ufeff") if number == 1 else text
        except UnicodeDecodeError:
            bad[number] = f"not {encoding} text"
            yield "\n"


def _copy_slow(cursor, stream, layout, delimiter, encoding):
    """Line by line: wrong field counts and undecodable lines are staged with ``_bad``."""
    fields = ", ".join(f"f_{i}" for i in range(layout.width))
    bad, records = {}, 0
    reader = csv.reader(_decoded_lines(stream, encoding, bad), delimiter=delimiter)
    with cursor.cursor.copy(f"COPY _load (_line, _bad, {fields}) FROM STDIN") as copy:
        for record in reader:
            records += 1
            reason = bad.pop(records, None)
            if reason is None and not record:
                continue  # a blank line
            if reason is None and "\x00" in "".join(record):
                reason = "contains a NUL character"
            if reason is None and len(record) != layout.width:
                reason = f"has {len(record)} fields, expected {layout.width}"
            values = record if reason is None else [None] * layout.width
            copy.write_row([records, reason, *values])


def _skip(stream, layout):
    for _ in range(layout.offset):
        stream.readline()


def _write_sets(columns, layout, date_format, time_zone, label):
    """The good lines into ``rows`` and the others into ``rejects``: one plain ``INSERT ...
    SELECT`` each over ``_load``, every check evaluated inline (materializing the checked lines
    once for both cost more than checking them twice: they spilled to disk), and the rejects'
    statement skipped when every line was good."""
    value_params, reason_params, typed_params = [], [], []
    prepared = [
        file_values.prepared(c, f"f_{layout.positions[i]}", value_params)
        for i, c in enumerate(columns)
    ]
    values = "".join(f", {v} AS v_{i}" for i, v in enumerate(prepared))
    raws = "".join(f", f_{layout.positions[i]} AS r_{i}" for i in range(len(columns)))
    problems = [
        file_values.problem(c, f"v_{i}", date_format, reason_params) for i, c in enumerate(columns)
    ]
    line = f"_line + {int(layout.offset)}"
    reason = f"COALESCE(_bad, NULLIF(concat_ws('; ', {', '.join(problems) or 'NULL'}), ''))"
    checked = (
        f"(SELECT *, {reason} AS reason_ FROM "
        f"(SELECT {line} AS line_, _bad{values}{raws} FROM _load) staged) checked"
    )
    typed = [
        file_values.typed(c, f"v_{i}", date_format, time_zone, typed_params)
        for i, c in enumerate(columns)
    ]
    rows = tables.create(
        schema=None, label=label, columns={c["name"]: c.get("type", "string") for c in columns}
    )
    rejects = tables.create(
        schema=None,
        label=f"{label} rejects",
        columns={"reason": "string", **{c["name"]: "string" for c in columns}},
    )
    good = f"SELECT line_{''.join(', ' + t for t in typed)} FROM {checked} WHERE reason_ IS NULL"
    tables.fill(rows, good, typed_params + reason_params + value_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM _load")
        lines = cursor.fetchone()[0]
    raw_list = "".join(f", r_{i}" for i in range(len(columns)))
    bad = f"SELECT line_, reason_{raw_list} FROM {checked} WHERE reason_ IS NOT NULL"
    if rows.count == lines:
        bad += " AND false"  # planned as an empty result: the lines are not read again
    tables.fill(rejects, bad, reason_params + value_params)
    return rows, rejects


def load(
    *,
    open_stream,
    columns,
    delimiter=",",
    header=True,
    encoding="utf-8",
    skip_lines=0,
    date_format=None,
    time_zone="UTC",
    label="",
):
    with open_stream() as stream, connection.cursor() as cursor:
        layout, prefix = _read_layout(
            stream,
            columns,
            delimiter=delimiter,
            header=header,
            encoding=encoding,
            skip_lines=skip_lines,
        )
        _stage(cursor, layout.width)
        cursor.execute("SAVEPOINT load_file_copy")
        try:
            _copy_fast(cursor, stream, prefix, layout, delimiter, encoding)
            fast = True
        except psycopg.Error:
            cursor.execute("ROLLBACK TO SAVEPOINT load_file_copy")
            fast = False
    if not fast:
        with open_stream() as stream, connection.cursor() as cursor:
            _skip(stream, layout)
            _copy_slow(cursor, stream, layout, delimiter, encoding)
    return _write_sets(columns, layout, date_format, time_zone, label)


def first_rejects(rejects, limit: int = 3) -> str:
    """``"line 3: amount: not a decimal; line 7: ..."`` for the first rejected lines."""
    reason = next(c["column"] for c in rejects.columns if c["name"] == "reason")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, {reason} FROM {rejects.table_name} ORDER BY key LIMIT %s", [limit]
        )
        return "; ".join(f"line {line}: {why}" for line, why in cursor.fetchall())
