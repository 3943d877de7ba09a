"""Reading users' CSV files for imports (design 5.2): encodings, the header, the ``COPY`` options,
where an undecodable byte is, and the repair of malformed lines.

Contract:
- ``ENCODINGS``: the ``encoding`` option's values (``utf-8`` default, ``latin-1``, ``cp1252``);
  PostgreSQL converts the data itself (``COPY ... (ENCODING ...)``), Python only the header.
- ``read_header(stream, encoding)``: the column names of the first line and the bytes it took.
- ``undecodable(stream, encoding, exc)``: the ``ImportFailed`` for a file that is not in its
  encoding, naming the encoding, the byte offset (from 0) and the line (1 = the header).
- ``stage_repaired(cursor, stream, names, ...)``: fills ``_stage`` from a file whose lines
  PostgreSQL's CSV parser refused, set-based: each physical line is copied verbatim into
  ``_lines``; lines are grouped into records by the parity of their quotes (a quoted field may
  hold line breaks); a record with the wrong number of fields, an unterminated quote or no
  text becomes a reject of its row (``_rej`` with an empty column name). A malformed record of
  several lines is taken line by line (an unterminated quote swallows only its own line), so the
  rows after it are still imported. Rows are numbered by record from 1, as in the fast path.
  In repaired files an empty field is null, quoted or not.
"""

import codecs
import csv
import io
import time
from collections.abc import Callable
from typing import BinaryIO

import psycopg

from audiences.services.records import OP_COLUMN, q

CHUNK = 1 << 20
PROGRESS_SECONDS = 1.0
Progress = Callable[[int, int], None]  # (bytes read, lines read)
# option value: (Python codec, PostgreSQL encoding name)
ENCODINGS = {
    "utf-8": ("utf-8", "UTF8"),
    "latin-1": ("latin-1", "LATIN1"),
    "cp1252": ("cp1252", "WIN1252"),
}
MALFORMED_SQLSTATE = "22P04"  # bad_copy_file_format: extra or missing columns, open quote
ENCODING_SQLSTATES = ("22021", "22P05")  # invalid byte sequence, untranslatable character
# Each physical line as one field: delimiter and quote are bytes that text files do not hold.
VERBATIM = "FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02'"


class ImportFailed(Exception):
    """The whole file is refused (bad header, undecodable bytes): nothing was written."""


def copy_options(encoding: str) -> str:
    """The ``COPY ... FROM STDIN`` options of a CSV file in ``encoding``."""
    return f"FORMAT csv, ENCODING '{ENCODINGS[encoding][1]}'"


def read_header(stream: BinaryIO, encoding: str = "utf-8") -> tuple[list[str], int]:
    """The column names of the first line (a UTF-8 BOM is skipped); returns (names, bytes read)."""
    line = stream.readline()
    codec = "utf-8-sig" if encoding == "utf-8" else ENCODINGS[encoding][0]
    try:
        text = line.decode(codec)
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"the header (line 1) is not valid {encoding} at byte {exc.start} "
            f"({line[exc.start : exc.start + 4]!r}); {_choose(encoding)}"
        ) from None
    names = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in names], len(line)


def _choose(encoding):
    others = ", ".join(name for name in ENCODINGS if name != encoding)
    return f"give the file's encoding ({others}) or save it as UTF-8"


def undecodable(stream: BinaryIO, encoding: str, exc: psycopg.Error) -> ImportFailed:
    """The ImportFailed for PostgreSQL's encoding error ``exc``, located by decoding the file
    again in chunks (constant memory, no row loop)."""
    codec = ENCODINGS[encoding][0]
    stream.seek(0)
    decoder, offset, lines = codecs.getincrementaldecoder(codec)(), 0, 1
    while chunk := stream.read(CHUNK):
        bad = chunk.find(b"\x00")
        try:
            decoder.decode(chunk if bad < 0 else chunk[:bad])
        except UnicodeDecodeError as error:
            bad = error.start
        if bad >= 0:
            position, lines = offset + bad, lines + chunk.count(b"\n", 0, bad)
            if chunk[bad : bad + 1] == b"\x00":
                return ImportFailed(
                    f"the file holds a NUL byte at byte {position} (line {lines}): "
                    "a CSV file is text, and text never holds NUL"
                )
            sample = chunk[bad : bad + 4]
            return ImportFailed(
                f"the file is not valid {encoding} at byte {position} (line {lines}, bytes "
                f"{sample!r}); {_choose(encoding)}"
            )
        offset, lines = offset + len(chunk), lines + chunk.count(b"\n")
    context = (exc.diag.context or "").splitlines()[0:1]
    where = context[0].replace("COPY _stage, line", "line") if context else "somewhere"
    return ImportFailed(f"{exc.diag.message_primary} ({where}); {_choose(encoding)}")


def stream_into(
    cursor, sql: str, stream: BinaryIO, read: int = 0, progress: Progress | None = None
) -> int:
    """Run ``COPY ... FROM STDIN`` (``sql``) with the rest of ``stream``, in 1 MiB chunks;
    ``progress(bytes read, lines read)`` about once a second. Returns the bytes read."""
    lines, last = 0, time.monotonic()
    with cursor.cursor.copy(sql) as copy:
        while chunk := stream.read(CHUNK):
            copy.write(chunk)
            read += len(chunk)
            lines += chunk.count(b"\n")
            if progress and time.monotonic() - last >= PROGRESS_SECONDS:
                progress(read, lines)
                last = time.monotonic()
    if progress:
        progress(read, lines)
    return read


def _copy_lines(cursor, stream, encoding, progress, read):
    cursor.execute(
        "DROP TABLE IF EXISTS _lines; CREATE TEMP TABLE _lines (n bigserial, t text) ON COMMIT DROP"
    )
    options = f"{VERBATIM}, ENCODING '{ENCODINGS[encoding][1]}'"
    return stream_into(cursor, f"COPY _lines (t) FROM STDIN ({options})", stream, read, progress)


def _fields(text):
    """SQL: the number of fields of the record ``text`` (commas outside quoted sections + 1)."""
    return (
        f"(SELECT length(x) - length(replace(x, ',', '')) + 1 FROM "
        f"(SELECT regexp_replace({text}, '\"[^\"]*\"', '', 'g') AS x) f)"
    )


def _problem(text, odd, expected):
    """SQL: why the record ``text`` is not a row, or null."""
    return (
        f"CASE WHEN {text} IS NULL OR {text} = '' THEN 'empty line' "
        f"WHEN {odd} THEN 'unterminated quoted field' "
        f"WHEN {_fields(text)} <> {expected} THEN "
        f"'expected {expected} fields, found ' || {_fields(text)} END"
    )


def _split(text):
    """SQL: the fields of a well-formed record as a text array (quotes removed, ``""`` -> ``"``):
    the pieces between quotes alternate outside/inside; commas outside become separators."""
    return (
        f"CASE WHEN strpos({text}, '\"') = 0 THEN string_to_array({text}, ',') ELSE string_to_array("
        "(SELECT string_agg(CASE WHEN i % 2 = 0 THEN seg WHEN seg = '' AND i > 1 AND i < n "
        "THEN '\"' ELSE replace(seg, ',', E'\\x01') END, '' ORDER BY i) "
        f"FROM (SELECT seg, i, count(*) OVER () AS n FROM unnest(string_to_array({text}, '\"')) "
        "WITH ORDINALITY AS u(seg, i)) p), E'\\x01') END"
    )


def stage_repaired(
    cursor,
    stream: BinaryIO,
    names: list[str],
    *,
    encoding: str,
    progress: Progress | None = None,
    read: int = 0,
) -> tuple[int, int]:
    """Fill ``_stage`` (already created, empty) from the rest of ``stream`` (just after the
    header), rejecting malformed records into ``_rej``; returns (rows, bytes read)."""
    read = _copy_lines(cursor, stream, encoding, progress, read)
    expected = len(names)
    cursor.execute(
        "CREATE TEMP TABLE _units ON COMMIT DROP AS "
        "WITH l AS (SELECT n, t, (length(t) - length(replace(t, '\"', ''))) % 2 = 1 AS odd "
        "FROM _lines), "
        "s AS (SELECT *, sum(odd::int) OVER (ORDER BY n) - odd::int AS before FROM l), "
        "r AS (SELECT *, sum((before % 2 = 0)::int) OVER (ORDER BY n) AS rid FROM s), "
        "g AS (SELECT rid, min(n) AS n, count(*) AS lines, sum(odd::int) % 2 = 1 AS odd, "
        "string_agg(coalesce(t, ''), E'\\n' ORDER BY n) AS t FROM r GROUP BY rid), "
        f"gp AS (SELECT *, {_problem('t', 'odd', expected)} AS problem FROM g), "
        "u AS (SELECT n, t, problem FROM gp WHERE problem IS NULL OR lines = 1 "
        f"UNION ALL SELECT r.n, r.t, {_problem('r.t', 'r.odd', expected)} FROM r "
        "JOIN gp ON gp.rid = r.rid AND gp.problem IS NOT NULL AND gp.lines > 1) "
        "SELECT row_number() OVER (ORDER BY n) AS _row, t, problem FROM u"
    )
    cursor.execute(
        "INSERT INTO _rej (_row, col, message) SELECT _row, '', problem FROM _units "
        "WHERE problem IS NOT NULL"
    )
    columns = ", ".join("_op" if n == OP_COLUMN else q(n) for n in names)
    values = ", ".join(f"NULLIF(f[{i}], '')" for i in range(1, expected + 1))
    cursor.execute(
        f"INSERT INTO _stage (_row, {columns}) SELECT _row, {values} FROM "
        f"(SELECT _row, {_split('t')} AS f FROM _units WHERE problem IS NULL) x"
    )
    cursor.execute("SELECT count(*) FROM _units")
    rows = cursor.fetchone()[0]
    cursor.execute("DROP TABLE _units; DROP TABLE _lines")
    return rows, read
