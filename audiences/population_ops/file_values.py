"""The values of a loaded file's columns, as SQL over staged text (``files``).

A column definition is ``{"name", "type", "required", "default", "remap", "trim", "case"}``:
the staged text is trimmed (``trim``, default true), an empty text is null, ``remap``
(``{"from": "to"}``) replaces whole values (compared after trimming), ``case`` (``lower`` or
``upper``) applies, then ``default`` fills a null. The result must be present when ``required``
and be a value of ``type`` (an attribute type of design 5.1).

Dates and date-times are ISO 8601 unless ``date_format`` is given: a pattern of ``YYYY``, ``MM``,
``DD``, ``HH24`` (or ``HH``), ``MI``, ``SS`` and literal characters (``DD/MM/YYYY HH24:MI``); a
date-time without an offset is taken in ``time_zone``. Impossible dates (``2026-02-30``) are
refused, never rolled over.

- ``prepared(definition, text, params) -> SQL`` the text after trim, remap, case and default;
- ``problem(definition, value, date_format, params) -> SQL`` the reason a prepared value is
  refused (``"amount: not a decimal"``), or null; ``refused(definitions, values, date_format)
  -> SQL`` true when any is (the good lines' filter: no reason text to build);
- ``typed(definition, value, date_format, time_zone, params) -> SQL`` its typed value;
- ``format_error(date_format) -> str | None``.
``params`` is the list the SQL's ``%s`` placeholders are appended to, in order.
"""

import re

from django.db import connection

from audiences.services.records import BIGINT

DECIMAL_DIGITS = 14  # numeric(18, 4): the type of a decimal added column
TYPE_PATTERNS = {
    "integer": (r"^[+-]?[0-9]{1,19}$", "an integer"),  # and bigint's range
    "decimal": (rf"^[+-]?([0-9]{{1,{DECIMAL_DIGITS}}}(\.[0-9]*)?|\.[0-9]+)$", "a decimal"),
    "float": (r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$", "a number"),
}
NUMBER_TYPES = {
    "integer": "bigint",
    "decimal": f"numeric({DECIMAL_DIGITS + 4}, 4)",
    "float": "float8",
}
BOOLEAN_WORDS = ("t", "true", "f", "false", "y", "yes", "n", "no", "on", "off", "1", "0")
ISO_DATE = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
ISO_TIME = r"([T ]([0-9]{2}):([0-9]{2})(:([0-9]{2})(\.[0-9]{1,6})?)?)?"
ISO_ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
TOKENS = {"YYYY": r"([0-9]{4})", "MM": r"([0-9]{1,2})", "DD": r"([0-9]{1,2})"}
TOKENS.update({"HH24": r"([0-9]{1,2})", "HH": r"([0-9]{1,2})", "MI": r"([0-9]{2})"})
TOKENS["SS"] = r"([0-9]{2})"
TOKEN_RE = re.compile("|".join(sorted(TOKENS, key=len, reverse=True)))
PART = {"YYYY": "y", "MM": "m", "DD": "d", "HH24": "h", "HH": "h", "MI": "mi", "SS": "s"}


def format_error(date_format) -> str | None:
    if date_format in (None, ""):
        return None
    found = [PART[t] for t in TOKEN_RE.findall(date_format)]
    missing = [
        name for name, part in (("YYYY", "y"), ("MM", "m"), ("DD", "d")) if part not in found
    ]
    if missing:
        return f"needs {', '.join(missing)} (tokens: YYYY, MM, DD, HH24, MI, SS)"
    if len(found) != len(set(found)):
        return "names a part twice"
    return None


def _pattern(date_format):
    """(regular expression, {part: group number}) of a ``date_format``."""
    regex, groups, position = "^", {}, 0
    for match in TOKEN_RE.finditer(date_format):
        regex += re.escape(date_format[position : match.start()]) + TOKENS[match.group()]
        groups[PART[match.group()]] = len(groups) + 1
        position = match.end()
    return regex + re.escape(date_format[position:]) + "$", groups


def _lit(params, value):
    params.append(value)
    return "%s"


def _text(value: str) -> str:
    """A constant of ours (a regular expression) as an SQL literal, safe to repeat in a query
    with placeholders."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


def prepared(definition: dict, text: str, params: list) -> str:
    value = f"btrim({text})" if definition.get("trim", True) else text
    value = f"NULLIF({value}, '')"
    remap = definition.get("remap") or {}
    if remap:
        cases = " ".join(
            f"WHEN {_lit(params, str(k))} THEN {_lit(params, str(v))}" for k, v in remap.items()
        )
        value = f"(CASE {value} {cases} ELSE {value} END)"
    if definition.get("case") in ("lower", "upper"):
        value = f"{definition['case']}({value})"
    if definition.get("default") not in (None, ""):
        value = f"COALESCE({value}, {_lit(params, str(definition['default']))})"
    return value


def _valid_date(y, m, d):
    """SQL true when the int expressions y, m, d make a real date (evaluated in order)."""
    return (
        f"CASE WHEN {y} < 1 OR {m} NOT BETWEEN 1 AND 12 OR {d} < 1 THEN false ELSE {d} <= "
        f"extract(day FROM make_date({y}, {m}, 1) + interval '1 month - 1 day') END"
    )


def _time_ok(h, mi, s):
    return f"(COALESCE({h}, 0) <= 23 AND COALESCE({mi}, 0) <= 59 AND COALESCE({s}, 0) <= 59)"


def _parts(value, date_format):
    """{part: SQL int expression} of a dated value (None where the pattern has no such part)."""
    if date_format:
        regex, groups = _pattern(date_format)
        match = f"regexp_match({value}, {_text(regex)})"
        found = {part: f"({match})[{index}]::int" for part, index in groups.items()}
    else:
        match = f"regexp_match({value}, {_text(ISO_DATE + ISO_TIME + ISO_ZONE)})"
        found = {
            part: f"({match})[{index}]::int"
            for part, index in (("y", 1), ("m", 2), ("d", 3), ("h", 5), ("mi", 6), ("s", 8))
        }
    return {part: found.get(part) for part in ("y", "m", "d", "h", "mi", "s")}


def _dated_problem(value, kind, date_format):
    if date_format:
        regex, _groups = _pattern(date_format)
    else:
        regex = ISO_DATE + "$" if kind == "date" else ISO_DATE + ISO_TIME + ISO_ZONE
    shape = f"{value} !~ {_text(regex)}"
    p = _parts(value, date_format)
    check = _valid_date(p["y"], p["m"], p["d"])
    if kind == "datetime":
        check = f"({check}) AND {_time_ok(p['h'] or 'NULL', p['mi'] or 'NULL', p['s'] or 'NULL')}"
    return f"CASE WHEN {shape} THEN true ELSE NOT ({check}) END"


def _readable(kind: str, value: str) -> str:
    """SQL true when the text ``value`` is a value of number type ``kind``: what PostgreSQL
    reads as that type (``pg_input_is_valid``, a C function: several times cheaper than a
    regular expression; as an import's casts read it, so PostgreSQL 16 and later also read
    ``1_000`` and ``0x1F`` as integers), never ``NaN`` nor an infinity. Before PostgreSQL 16,
    the type's pattern."""
    if connection.pg_version < 160000:
        regex, _what = TYPE_PATTERNS[kind]
        if kind == "integer":  # 19 digits may be out of bigint's range
            return (
                f"CASE WHEN {value} !~ {_text(regex)} THEN false WHEN length({value}) < 19 "
                f"THEN true ELSE {value}::numeric BETWEEN {BIGINT[0]} AND {BIGINT[1]} END"
            )
        return f"{value} ~ {_text(regex)}"
    sql = NUMBER_TYPES[kind]
    if kind == "integer":
        return f"pg_input_is_valid({value}, '{sql}')"
    return (
        f"CASE WHEN pg_input_is_valid({value}, '{sql}') "
        f"THEN {value}::{sql} NOT IN ('NaN', 'Infinity', '-Infinity') ELSE false END"
    )


def checks(definition: dict, value: str, date_format) -> list:
    """``[(SQL condition true when ``value`` (prepared) is refused, reason)]``, in order; a null
    value is refused only when required."""
    name, kind = definition["name"], definition.get("type", "string")
    found = []
    if definition.get("required"):
        found.append((f"{value} IS NULL", f"{name}: required"))
    if kind in NUMBER_TYPES:
        found.append((f"NOT {_readable(kind, value)}", f"{name}: not {TYPE_PATTERNS[kind][1]}"))
    elif kind == "boolean":
        words = ", ".join(f"'{w}'" for w in BOOLEAN_WORDS)
        found.append((f"lower({value}) NOT IN ({words})", f"{name}: not true or false"))
    elif kind in ("date", "datetime"):
        what = f"a date ({date_format or 'YYYY-MM-DD'})" if kind == "date" else "a date-time"
        found.append((_dated_problem(value, kind, date_format), f"{name}: not {what}"))
    return found


def problem(definition: dict, value: str, date_format, params: list) -> str:
    """SQL text of the reason ``value`` (prepared) is refused, or null."""
    found = checks(definition, value, date_format)
    if not found:
        return "NULL"
    cases = " ".join(
        f"WHEN {condition} THEN {_lit(params, message)}" for condition, message in found
    )
    return f"(CASE {cases} END)"


def refused(definitions: list, values: list, date_format) -> str:
    """SQL true when any of ``values`` (prepared, one per definition) is refused."""
    conditions = [
        f"({condition})"
        for definition, value in zip(definitions, values, strict=True)
        for condition, _reason in checks(definition, value, date_format)
    ]
    return f"COALESCE({' OR '.join(conditions)}, false)" if conditions else "false"


def typed(definition: dict, value: str, date_format, time_zone: str, params: list) -> str:
    kind = definition.get("type", "string")
    if kind in ("string", "text"):
        return value
    if kind in ("integer", "decimal", "float", "boolean"):
        sql = {"integer": "bigint", "decimal": "numeric", "float": "double precision"}
        return f"{value}::{sql.get(kind, 'boolean')}"
    if kind == "date" and not date_format:
        return f"{value}::date"
    if kind == "datetime" and not date_format:
        offset = _text(ISO_ZONE.replace(")?$", ")$"))
        zone = _lit(params, time_zone)
        return (
            f"(CASE WHEN length({value}) > 10 AND {value} ~ {offset} THEN {value}::timestamptz "
            f"ELSE {value}::timestamp AT TIME ZONE {zone} END)"
        )
    p = _parts(value, date_format)
    if kind == "date":
        return f"make_date({p['y']}, {p['m']}, {p['d']})"
    h, mi, s = (p[k] or "0" for k in ("h", "mi", "s"))
    return (
        f"make_timestamptz({p['y']}, {p['m']}, {p['d']}, {h}, {mi}, {s}, {_lit(params, time_zone)})"
    )
