"""Populations: working sets materialized in PostgreSQL (design 4).

A population is a ``Population`` row (its schema, count, added columns, label, ``keep``) plus a
table ``pop_<id>``::

    CREATE TABLE pop_<id> (key <type of the schema's primary key>)                     -- keys only
    CREATE TABLE pop_<id> (key <type>, c_<n> <type>, ...)  -- added columns; PRIMARY KEY (key) after

``key`` holds primary keys of ``population.schema`` records, each once: every writer selects them
from the schema's table (many-to-one joins only) or combines such sets with UNION / INTERSECT /
EXCEPT, so a key-only population needs no index. It is only ever read as a set (``members``:
``pk IN (SELECT key ...)``, a hash semi-join), and maintaining a b-tree on every working set
tripled the cost of writing it (issue 10: 582 ms instead of 214 ms for 363,000 keys). A
population with added columns keeps its primary key: ``annotate_targets`` reads it key by key.
Each added column is listed in
``population.columns`` as ``{"name": ALIAS, "type": ATTRIBUTE_TYPE, "column": "c_<n>"}`` (SQL
columns are named from numbers, never from user text: PostgreSQL cuts identifiers at 63 bytes).
Every set is written by ONE ``INSERT INTO pop_<id> ... SELECT ...`` compiled from an ORM queryset
(the SQL compiler's ``as_sql()``, explicit column order), then ``ANALYZE``d and counted. Keys are
never fetched into Python: worker memory does not depend on the audience size.

All functions take keyword-only arguments (except the population for readers) and run in the
caller's transaction (DDL included, so a rolled-back transaction leaves no table behind).

Writing
- ``materialize(*, queryset, schema, label="", columns=None) -> Population``
  ``queryset`` is any queryset of ``schema``'s model (``dynamic.get_model(schema.name)``) that
  yields each record once (filters, many-to-one joins, subqueries; no multi-valued join);
  ``columns`` is ``{alias: (expression, attribute_type)}``: each expression (an ``F``/annotation
  usable in ``queryset.annotate``) becomes a typed added column.
- ``from_rule(*, schema, where, variables=None, now=None, within=None, label="") -> Population``
  Validates and compiles a rule (design 5.3, ``audiences.rules`` / ``audiences.compiler``) and
  materializes its records; with ``within`` (a Population) the rule is evaluated inside it and
  ``target.ALIAS`` reads that population's added columns. Raises ``ValidationFailed`` for a bad
  rule. ``now`` (aware datetime) is the evaluation time; default: the current time.
- ``subset(*, population, where=None, variables=None, now=None, limit=None, order_by=None,
  seed=None, label="") -> Population``
  Records of ``population`` matching ``where`` (``target.ALIAS`` available), keeping its added
  columns; ``limit`` = ``{"count": N}`` or ``{"percent": P}`` (of the matching records, rounded
  down); order ``order_by`` = ``"field"``/``"-field"`` (an attribute path or ``target.ALIAS``,
  NULLS LAST, then the key) or, when ``order_by`` is None and ``seed`` is given, ``md5(seed||key)``
  (a seeded random order independent of the scan order); otherwise the key order.
- ``combine(*, operation, populations, label="") -> Population``
  ``operation`` is ``"union"``, ``"intersection"`` or ``"exclusion"`` (the first minus the
  others); all populations must share one schema; keys only (no added columns); one SQL statement.
- ``copy(*, population, label="") -> Population``: the same keys and added columns, copied
  table to table (a snapshot).
- ``with_columns(*, population, columns, label="") -> Population``
  A new population with the same keys and columns plus ``columns`` (``{alias: (expression,
  attribute_type)}``, expressions evaluated on the schema's model, ``target.ALIAS`` excluded).
- ``copy_keys(*, population, label="") -> Population``: a plain copy of the keys.

Reading
- ``members(population) -> QuerySet`` of the schema's model restricted to the population
  (``pk IN (SELECT key FROM pop_<id>)``): the base of later queries and rules.
- ``rows(population, *, offset=0, limit=50, columns=None) -> list[dict]`` a page in key order:
  ``{"key": ..., ALIAS: ..., PATH: ...}`` with the added columns and the chosen schema attribute
  paths (``"email"``, ``"store.city"``).
- ``annotate_targets(queryset, population) -> QuerySet`` joins the population's added columns
  onto a queryset of its schema as annotations ``target__<alias>`` (used by the compiler for
  ``target.ALIAS``).

Lifecycle
- ``drop(population)`` drops the table and deletes the row.
- ``purge(*, older_than=None, protected=None, limit=500) -> int`` drops populations not ``keep``
  created before ``older_than`` (default: now - ``settings.POPULATION_RETENTION_DAYS`` days) and
  not in ``protected`` (ids the caller still needs, e.g. campaigns' runs still going; this module
  imports no app that uses populations), returns how many.
"""

from types import SimpleNamespace

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import MD5, Cast, Concat
from django.utils import timezone

from audiences import dynamic, rules
from audiences.models import Population
from config.errors import ValidationFailed

OPERATIONS = {"union": "UNION", "intersection": "INTERSECT", "exclusion": "EXCEPT"}
PURGE_BATCH = 500


def _model(population_or_schema):
    schema = getattr(population_or_schema, "schema", population_or_schema)
    return dynamic.get_model(schema.name)


def _column_type(kind):
    field = dynamic.scalar_field(
        SimpleNamespace(type=kind, required=False, indexed=False, precision=None, scale=None)
    )
    return field, field.db_type(connection)


def members(population):
    """The schema's records that are in ``population`` (a lazy queryset)."""
    table = population.table_name
    return _model(population).objects.filter(pk__in=RawSQL(f"SELECT key FROM {table}", []))


def annotate_targets(queryset, population):
    """``queryset`` with each added column of ``population`` as annotation ``_t_<alias>``."""
    model = queryset.model
    outer = f'"{model._meta.db_table}"."{model._meta.pk.column}"'
    annotations = {}
    for column in population.columns:
        field, _ = _column_type(column["type"])
        annotations[f"_t_{column['name']}"] = RawSQL(
            f"SELECT p.{column['column']} FROM {population.table_name} p WHERE p.key = {outer}",
            [],
            output_field=field,
        )
    return queryset.annotate(**annotations) if annotations else queryset


def add_key(cursor, population) -> None:
    """The primary key of a set with added columns, once its rows are written (key-only sets
    are read as a whole and need none, nor do a file's rows: their line numbers are unique as
    written, and they are read whole, or paged as key-only sets are)."""
    if population.columns and population.schema_id is not None:
        cursor.execute(f"ALTER TABLE {population.table_name} ADD PRIMARY KEY (key)")


def materialize(*, queryset, schema, label="", columns=None):
    """Write ``queryset``'s keys (and ``columns``: {alias: (expression, type)}) into a new set."""
    return _materialize(queryset, schema, label, columns or {})


def _materialize(queryset, schema, label, columns, order=None, limit=None):
    """The INSERT ... SELECT; ``order`` and ``limit`` keep the first ``limit`` rows in order."""
    model = dynamic.get_model(schema.name)
    spec = [
        {"name": alias, "type": kind, "column": f"c_{n}"}
        for n, (alias, (_expr, kind)) in enumerate(columns.items(), start=1)
    ]
    population = Population.objects.create(schema=schema, label=label[:200], columns=spec)
    table = population.table_name
    ddl = [f"key {model._meta.pk.db_type(connection)}"]
    ddl += [f"{c['column']} {_column_type(c['type'])[1]}" for c in spec]
    annotations = {f"x_pop_{c['column']}": columns[c["name"]][0] for c in spec}
    select = queryset.annotate(**annotations) if annotations else queryset
    select = select.values_list("pk", *annotations)
    select = select.order_by(*order)[:limit] if order else select.order_by()
    sql, params = select.query.get_compiler(connection=connection).as_sql()
    names = ", ".join(["key"] + [c["column"] for c in spec])
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} ({', '.join(ddl)})")
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)
        population.count = cursor.rowcount
        add_key(cursor, population)
        cursor.execute(f"ANALYZE {table}")
    population.save(update_fields=["count"])
    return population


def from_rule(*, schema, where, variables=None, now=None, within=None, label=""):
    """Materialize the records of ``schema`` matching ``where`` (inside ``within`` if given)."""
    from audiences.compiler import queryset_for

    queryset = queryset_for(
        schema=schema, where=where, variables=variables, now=now, population=within
    )
    return materialize(queryset=queryset, schema=schema, label=label)


def _carried(population):
    return {c["name"]: (F(f"_t_{c['name']}"), c["type"]) for c in population.columns}


def _order(population, order_by, seed):
    if order_by:
        descending = order_by.startswith("-")
        path = order_by.lstrip("-")
        lookup = lookup_of(population, path, "order_by")
        expression = F(lookup)
        return [expression.desc(nulls_last=True) if descending else expression.asc(), "pk"]
    if seed is not None:
        key_text = Cast("pk", output_field=TextField())
        return [MD5(Concat(Value(str(seed)), key_text, output_field=TextField())), "pk"]
    return ["pk"]


def lookup_of(population, path, where_path):
    """The ORM lookup of an attribute path or ``target.ALIAS`` on ``population``'s records."""
    targets = {c["name"]: c["type"] for c in population.columns}
    lookup, _kind = rules.field_lookup(
        schema=population.schema.name, field=path, targets=targets, path=where_path
    )
    return lookup


def subset(
    *,
    population,
    where=None,
    variables=None,
    now=None,
    limit=None,
    order_by=None,
    seed=None,
    label="",
):
    """Members of ``population`` matching ``where``, at most ``limit``, keeping its columns."""
    from audiences.compiler import queryset_for

    queryset = queryset_for(
        schema=population.schema, where=where, variables=variables, now=now, population=population
    )
    if limit is not None:
        if "count" in limit:
            size = int(limit["count"])
        else:
            size = int(queryset.count() * float(limit["percent"]) // 100)
        order = _order(population, order_by, seed)
        return _materialize(
            queryset, population.schema, label, _carried(population), order, max(size, 0)
        )
    return _materialize(queryset, population.schema, label, _carried(population))


def combine(*, operation, populations, label=""):
    """Union, intersection or exclusion (first minus the others) of same-schema populations."""
    if operation not in OPERATIONS or not populations:
        raise ValidationFailed([{"path": "operation", "message": "union, intersection, exclusion"}])
    schema = populations[0].schema
    if any(p.schema_id != schema.pk for p in populations):
        raise ValidationFailed([{"path": "populations", "message": "populations differ in schema"}])
    result = Population.objects.create(schema=schema, label=label[:200])
    model = dynamic.get_model(schema.name)
    select = f" {OPERATIONS[operation]} ".join(
        f"SELECT key FROM {p.table_name}" for p in populations
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {result.table_name} (key {model._meta.pk.db_type(connection)})"
        )
        cursor.execute(f"INSERT INTO {result.table_name} (key) {select}")
        result.count = cursor.rowcount
        cursor.execute(f"ANALYZE {result.table_name}")
    result.save(update_fields=["count"])
    return result


def with_columns(*, population, columns, label=""):
    """A copy of ``population`` with more added columns ({alias: (expression, type)})."""
    clash = set(columns) & {c["name"] for c in population.columns}
    if clash:
        raise ValidationFailed([{"path": "columns", "message": f"already present: {clash}"}])
    if not columns:
        return copy(population=population, label=label)
    queryset = annotate_targets(members(population), population)
    return materialize(
        queryset=queryset,
        schema=population.schema,
        label=label,
        columns={**_carried(population), **columns},
    )


def copy(*, population, label=""):
    """A copy of ``population``, its added columns included: one ``INSERT ... SELECT`` of its
    table (no per-key reads of the columns)."""
    result = Population.objects.create(
        schema=population.schema, label=label[:200], columns=population.columns
    )
    names = ", ".join(["key", *(c["column"] for c in population.columns)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {result.table_name} (LIKE {population.table_name} INCLUDING DEFAULTS)"
        )
        cursor.execute(
            f"INSERT INTO {result.table_name} ({names}) SELECT {names} FROM {population.table_name}"
        )
        result.count = cursor.rowcount
        add_key(cursor, result)
        cursor.execute(f"ANALYZE {result.table_name}")
    result.save(update_fields=["count"])
    return result


def copy_keys(*, population, label=""):
    return materialize(queryset=members(population), schema=population.schema, label=label)


def rows(population, *, offset=0, limit=50, columns=None):
    """A page of ``population`` in key order: key, added columns and chosen attribute paths."""
    lookups = {
        path: lookup_of(population, path, f"columns[{i}]") for i, path in enumerate(columns or [])
    }
    queryset = annotate_targets(members(population), population)
    added = {c["name"]: f"_t_{c['name']}" for c in population.columns}
    names = ["pk", *added.values(), *lookups.values()]
    page = queryset.order_by("pk").values_list(*names)[offset : offset + limit]
    labels = ["key", *added, *lookups]
    return [dict(zip(labels, row, strict=True)) for row in page]


def drop(population):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {population.table_name}")
    population.delete()


def purge(*, older_than=None, protected=None, limit=PURGE_BATCH):
    """Drop populations created before ``older_than`` (default: now - POPULATION_RETENTION_DAYS)
    that are neither kept nor ``protected``; returns how many.

    ``protected``: population ids that must stay, as anything ``pk__in`` takes (ids, a queryset,
    a ``RawSQL`` subquery): the caller's users of populations (campaign runs still going) say
    which, since this module knows none of them. At most ``limit`` per call; each is dropped in a
    transaction of its own under ``DDL_LOCK_TIMEOUT``, and one whose table is in use is left for
    the next call."""
    cutoff = older_than or timezone.now() - timezone.timedelta(
        days=settings.POPULATION_RETENTION_DAYS
    )
    stale = Population.objects.filter(keep=False, created_at__lt=cutoff)
    if protected is not None:
        stale = stale.exclude(pk__in=protected)
    dropped = 0
    for pk in list(stale.order_by("pk").values_list("pk", flat=True)[:limit]):
        dropped += _drop_if_free(pk, cutoff)
    return dropped


def _drop_if_free(pk, cutoff):
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [settings.DDL_LOCK_TIMEOUT]
                )
            population = (
                Population.objects.select_for_update()
                .filter(pk=pk, keep=False, created_at__lt=cutoff)
                .first()
            )
            if population is None:
                return 0
            drop(population)
    except OperationalError:  # its table is in use (lock timeout): the next purge retries
        return 0
    return 1
