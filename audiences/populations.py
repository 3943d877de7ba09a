"""Populations: working sets materialized in PostgreSQL (design 4).

A population is a ``Population`` row (its schema, count, added columns, label, ``keep``) plus a
table ``pop_<id>``::

    CREATE TABLE pop_<id> (key <type of the schema's primary key> PRIMARY KEY, c_<n> <type>, ...)

``key`` holds primary keys of ``population.schema`` records; each added column is listed in
``population.columns`` as ``{"name": ALIAS, "type": ATTRIBUTE_TYPE, "column": "c_<n>"}`` (SQL
columns are named from numbers, never from user text: PostgreSQL cuts identifiers at 63 bytes).
Every set is written by ONE ``INSERT INTO pop_<id> ... SELECT ...`` compiled from an ORM queryset
(the SQL compiler's ``as_sql()``, explicit column order), then ``ANALYZE``d and counted. Keys are
never fetched into Python: worker memory does not depend on the audience size.

All functions take keyword-only arguments (except the population for readers) and run in the
caller's transaction (DDL included, so a rolled-back transaction leaves no table behind).

Writing
- ``materialize(*, queryset, schema, label="", columns=None) -> Population``
  ``queryset`` is any queryset of ``schema``'s model (``dynamic.get_model(schema.name)``);
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
- ``purge(*, older_than=None) -> int`` drops populations not ``keep`` created before
  ``older_than`` (default: now - ``settings.POPULATION_RETENTION_DAYS`` days), returns how many.
"""
