"""DDL of the schema tables (``data_<name>``), through Django's schema editor on the runtime model
classes of ``audiences.dynamic``.

Contract: every function runs inside the caller's transaction with ``lock_timeout`` set to
``settings.DDL_LOCK_TIMEOUT`` (restored afterwards), so a table held by a long reader makes the change
fail with ``Conflict`` instead of queueing every other reader behind it. A type change converts each
stored value through its text form (``col::text::newtype``); when some value does not convert, the
change raises ``ValidationFailed`` listing a few of them. Primary keys and link columns get no
``varchar_pattern_ops`` twin index (they are joined by equality); indexed string attributes keep it
unless the database's collation sorts by code point (then the plain index serves ``LIKE``).
Tables are created with ``fillfactor`` ``FILLFACTOR``: see there.
"""

import re
from contextlib import contextmanager

from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError, connection, transaction

from config.errors import Conflict, ValidationFailed

LOCK_NOT_AVAILABLE = "55P03"
SAMPLE_SIZE = 5
EXACT_BELOW = 10_000  # estimated_rows counts exactly up to this many rows
# Loads and inserts leave a tenth of each page of a schema table free. An upsert that changes
# a row then writes its new version in the same page (a HOT update): no new entry in any index
# and no other page touched, unless an indexed column changed. Measured on 10M purchases with
# one row in ten changed: the write takes 3.5 s instead of 11.1 s (at 100, every changed row
# goes to a new page and into every index). The cost is a tenth more pages to scan.
FILLFACTOR = 90


def _editor_class():
    base = connection.SchemaEditorClass

    class TextCastingEditor(base):
        def _using_sql(self, new_field, old_field):
            using = super()._using_sql(new_field, old_field)
            return " USING %(column)s::text::%(type)s" if using else ""

        def _create_like_index_sql(self, model, field):
            # Keys and links are matched by equality only: a second (pattern) index on them would
            # only slow down every import. Under a collation that sorts by code point the plain
            # index already serves LIKE 'prefix%', so the twin would only cost imports too.
            if field.primary_key or field.is_relation or sorts_by_code_point():
                return None
            return super()._create_like_index_sql(model, field)

    return TextCastingEditor


@contextmanager
def editor(table=""):
    """A schema editor under the DDL lock timeout; a lock timeout becomes ``Conflict``."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)", [settings.DDL_LOCK_TIMEOUT]
            )
        try:
            with _editor_class()(connection, atomic=False) as schema_editor:
                yield schema_editor
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise Conflict(
                    f"table {table or 'of the schema'} is in use (no lock within "
                    f"{settings.DDL_LOCK_TIMEOUT}); nothing was changed, retry later"
                ) from exc
            raise
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def sorts_by_code_point():
    """Whether the database's collation orders text by code point (libc ``C``/``POSIX``, or the
    builtin provider of PostgreSQL 17+, which ``make run`` and ``make test`` use), so that a
    plain b-tree index serves ``LIKE 'prefix%'``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datlocprovider, datcollate FROM pg_database WHERE datname = current_database()"
        )
        provider, collate = cursor.fetchone()
    return provider == "b" or (provider == "c" and collate in ("C", "POSIX"))


def field_of(model, column):
    return next(f for f in model._meta.concrete_fields if f.column == column)


def create_tables(models):
    """Create one table per model; a table left over under the same name is refused (409)."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute("SELECT to_regclass(%s)", [model._meta.db_table])
            if cursor.fetchone()[0] is not None:
                raise Conflict(
                    f"a table named {model._meta.db_table} already exists outside the schema "
                    "metadata; drop it or choose another schema name"
                )
    for model in models:
        with editor(model._meta.db_table) as schema_editor:
            schema_editor.create_model(model)
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} "
                f"SET (fillfactor = {FILLFACTOR})"
            )


def drop_table(model):
    with editor(model._meta.db_table) as schema_editor:
        schema_editor.delete_model(model)


def add_columns(model, columns):
    with editor(model._meta.db_table) as schema_editor:
        for column in columns:
            schema_editor.add_field(model, field_of(model, column))


def drop_column(model, column):
    with editor(model._meta.db_table) as schema_editor:
        schema_editor.remove_field(model, field_of(model, column))


def alter_column(old_model, new_model, column, path, required_path=None):
    """Alter ``column`` from its field in ``old_model`` to the one in ``new_model`` (type, null,
    index, link). Values that do not convert, or nulls for a now required column, raise
    ``ValidationFailed`` at ``path`` (at ``required_path`` for the nulls)."""
    table = new_model._meta.db_table
    try:
        with transaction.atomic():
            with editor(table) as schema_editor:
                schema_editor.alter_field(
                    new_model, field_of(old_model, column), field_of(new_model, column)
                )
    except DataError as exc:
        new_type = field_of(new_model, column).db_type(connection)
        samples = unconvertible_values(table, column, new_type)
        raise ValidationFailed(
            [
                {
                    "path": path,
                    "message": f"some stored values do not convert to {new_type}, e.g. "
                    + ", ".join(repr(v) for v in samples or [str(exc.__cause__ or exc)]),
                }
            ]
        ) from exc
    except IntegrityError as exc:
        raise ValidationFailed(
            [
                {
                    "path": required_path or path,
                    "message": "some records have no value, so it cannot be required",
                }
            ]
        ) from exc


NUMERIC_RE = re.compile(r"numeric\((\d+), ?(\d+)\)")


def _surely_converts(db_type):
    """A regular expression matching text that certainly casts to ``db_type`` (a cheap filter
    before the exact, slower check), or None."""
    if db_type == "bigint":
        return r"^\s*[-+]?[0-9]{1,18}\s*$"
    if db_type == "double precision":
        return r"^\s*[-+]?([0-9]{1,200}\.?[0-9]{0,200}|\.[0-9]{1,200})([eE][-+]?[0-9]{1,2})?\s*$"
    match = NUMERIC_RE.fullmatch(db_type)
    if match and int(match[1]) > int(match[2]):
        whole, scale = int(match[1]) - int(match[2]), int(match[2])
        return rf"^\s*[-+]?[0-9]{{1,{whole}}}(\.[0-9]{{0,{scale}}})?\s*$"
    return None


def unconvertible_values(table, column, db_type):
    """A few distinct stored values of ``table.column`` whose text does not cast to ``db_type``.

    The check function is written for the one target type (a static cast, planned once), which is
    several times faster than a dynamic ``EXECUTE`` per row. ``db_type`` comes from Django's field,
    never from user input."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION pg_temp.audiences_converts(value text) RETURNS boolean "
            f"LANGUAGE plpgsql AS $$ BEGIN PERFORM value::{db_type}; RETURN true; "
            "EXCEPTION WHEN others THEN RETURN false; END $$"
        )
        safe = _surely_converts(db_type)
        cursor.execute(
            f"SELECT DISTINCT {qn(column)}::text FROM {qn(table)} WHERE {qn(column)} IS NOT NULL "
            + (f"AND {qn(column)}::text !~ %s " if safe else "")
            + f"AND NOT pg_temp.audiences_converts({qn(column)}::text) LIMIT {SAMPLE_SIZE}",
            [safe] if safe else None,
        )
        return [row[0] for row in cursor.fetchall()]


def estimated_rows(table):
    """About how many rows ``table`` holds, cheaply; None when there is no such table.

    The planner's estimate (``pg_class.reltuples``, from the last ANALYZE or autovacuum) when it
    says ``EXACT_BELOW`` rows or more; under that, or before any ANALYZE (-1), an exact count
    that reads at most ``EXACT_BELOW + 1`` rows; a bigger table never analyzed yet gets the
    cumulative statistics' live-row count (``pg_stat_user_tables.n_live_tup``, kept by every
    insert and delete)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
        if row is None:
            return None
        if row[0] >= EXACT_BELOW:
            return int(row[0])
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {qn(table)} LIMIT %s) AS r", [EXACT_BELOW + 1]
        )
        counted = cursor.fetchone()[0]
        if counted <= EXACT_BELOW:
            return counted
        cursor.execute(
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = to_regclass(%s)", [table]
        )
        live = cursor.fetchone()
    return max(int(live[0]), counted) if live else counted


def has_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
        return cursor.fetchone()[0]
