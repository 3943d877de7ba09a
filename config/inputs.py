"""Limits on what any input may hold (design 5.0), checked before anything reaches a service.

Free of HTTP: the API's parsers (``config.api.parsers``), the query-string and URL guard
(``config.middleware.UnsafeInputMiddleware``), admin forms and commands all use these, and get
``ValidationFailed`` with design 5.0 paths.

- ``text_error(text) -> str | None``: why a string can never be stored (a NUL character, which
  PostgreSQL refuses in text, or a lone surrogate, which is not Unicode text and cannot be encoded
  to UTF-8), else None.
- ``value_errors(value, path="") -> [{"path", "message"}]``: the same for every string of a JSON
  value, keys included, at its path (``activities[2].label``); also a value nested deeper than
  ``MAX_DEPTH``.
- ``loads(text, path="") -> value``: ``json.loads`` that never recurses past ``MAX_DEPTH``: the
  depth is measured on the text first (Python's own decoder raises ``RecursionError`` on a few
  thousand levels), then every string is checked with ``value_errors``. A malformed text is a
  ``ValidationFailed`` at ``path`` whose message starts with "JSON parse error".
- ``multi_value_errors(data, what) -> [{"path", "message"}]``: the same for the names and values
  of a ``QueryDict`` (query strings, form fields), by name; ``what`` names the kind of name
  ("query parameter", "field") in a message about a bad name itself.
- ``length_error(model, field, value) -> str | None``: why ``value`` does not fit the column of
  ``model.field`` (its ``max_length``, read from the model: never written twice).
"""

import json
import re
from itertools import accumulate

from config.errors import ValidationFailed

MAX_DEPTH = 128  # request bodies (design 5.0); rules have their own, lower limit
NUL = "\x00"
SURROGATE = re.compile("[\ud800-\udfff]")
# Escapes that can produce what text_error refuses: \u0000 and \uD800-\uDFFF. Without one of
# them in the JSON text, no decoded string can hold either, and the walk is skipped.
SUSPECT_ESCAPE = re.compile(r"\\u(0000|[dD][89a-fA-F])")
# A string, or an unterminated one up to the end: the loop unrolled (runs of plain characters
# matched at once) and possessive, so no input makes it backtrack.
JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def text_error(text: str) -> str | None:
    if NUL in text:
        return "must not contain NUL (\\u0000) characters"
    if not text.isascii() and SURROGATE.search(text):
        return "must be valid Unicode text (a lone surrogate such as \\ud800 is not)"
    return None


def _step(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _children(value, path):
    if isinstance(value, dict):
        return [(v, _step(path, k), k) for k, v in value.items()]
    if isinstance(value, list):
        return [(v, _step(path, i), None) for i, v in enumerate(value)]
    return []


def value_errors(value, path: str = "", *, max_depth: int = MAX_DEPTH) -> list[dict]:
    """Every string of ``value`` that ``text_error`` refuses, and nesting past ``max_depth``;
    iterative, so any depth is walked without recursion."""
    errors, todo = [], [(value, path, 1)]
    while todo:
        item, here, depth = todo.pop()
        if isinstance(item, str):
            problem = text_error(item)
            if problem:
                errors.append({"path": here, "message": problem})
            continue
        if depth > max_depth and isinstance(item, dict | list):
            errors.append({"path": here, "message": f"nested deeper than {max_depth} levels"})
            continue
        for child, child_path, key in _children(item, here):
            problem = text_error(key) if isinstance(key, str) else None
            if problem:  # the path would hold the bad key itself: report it at the object
                errors.append({"path": here, "message": f"a key {problem}"})
                continue
            todo.append((child, child_path, depth + 1))
    return sorted(errors, key=lambda e: e["path"])


def multi_value_errors(data, what: str) -> list[dict]:
    errors = []
    for name, values in data.lists():
        problem = text_error(name)
        if problem:
            errors.append({"path": "", "message": f"a {what} name {problem}"})
            continue
        problems = [text_error(value) for value in values if isinstance(value, str)]
        errors += [{"path": name, "message": problem} for problem in problems if problem]
    return errors


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest, without parsing it (brackets inside
    strings do not count)."""
    if '\\"' in text:  # an escaped quote: strings must be matched one by one
        outside = JSON_STRING.sub("", text)
    else:  # every quote opens or closes a string: split on them, keep what lies between
        outside = "".join(text.split('"')[::2])
    brackets = NOT_BRACKET.sub("", outside)
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def loads(text: str, path: str = ""):
    """The JSON value of ``text``, checked (module docstring)."""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        message = f"nested {depth} levels deep; at most {MAX_DEPTH} are accepted"
        raise ValidationFailed([{"path": path, "message": message}])
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise ValidationFailed([{"path": path, "message": f"JSON parse error - {exc}"}]) from None
    if SUSPECT_ESCAPE.search(text):
        errors = value_errors(value, path)
        if errors:
            raise ValidationFailed(errors)
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def length_error(model, field: str, value) -> str | None:
    """Why ``value`` does not fit ``model.field`` (``max_length``), else None."""
    limit = model._meta.get_field(field).max_length
    if isinstance(value, str) and limit is not None and len(value) > limit:
        return f"must have at most {limit} characters (it has {len(value)})"
    return None


def max_length(model, field: str) -> int | None:
    """The column's length, for documents that describe it (OpenAPI ``maxLength``)."""
    return model._meta.get_field(field).max_length
