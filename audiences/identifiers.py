"""Name rules of design 5.0 for schemas, attributes, links and every other identifier.

An identifier matches ``^[a-z][a-z0-9]*(_[a-z0-9]+)*$``, has at most 40 characters and is none of:
``pk``, ``objects``, PostgreSQL's reserved keywords, the names in ``dir(django.db.models.Model)``.
The keyword list is shipped so that validation needs no database round trip: it is the union of
``pg_get_keywords()`` with ``catcode = 'R'`` over PostgreSQL 15 to 18 (16 added ``system_user``), so a
name valid here stays valid when the database is upgraded; a test checks that it covers the server.
"""

import re

from django.db import models

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MAX_LENGTH = 40

POSTGRES_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign from
    grant group having in initially intersect into lateral leading limit localtime localtimestamp
    not null offset on only or order placing primary references returning select session_user some
    symmetric system_user table then to trailing true union unique user using variadic when where window
    with""".split()
)
# ``schema_name`` is a class attribute of every runtime model (audiences.dynamic).
DJANGO_RESERVED = frozenset(dir(models.Model)) | {"pk", "objects", "schema_name"}


def identifier_error(name):
    """Why ``name`` is not a valid identifier, or None when it is."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > MAX_LENGTH:
        return f"must have at most {MAX_LENGTH} characters (has {len(name)})"
    if not IDENTIFIER_RE.match(name):
        return (
            "must be lowercase letters, digits and single underscores, starting with a letter "
            "(no double or trailing underscore)"
        )
    if name in POSTGRES_RESERVED:
        return f"'{name}' is a reserved SQL keyword"
    if name in DJANGO_RESERVED:
        return f"'{name}' is reserved (used by the data models)"
    return None


def is_identifier(name):
    return identifier_error(name) is None
