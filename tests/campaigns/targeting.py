"""Helpers for the targeting activity tests: run one kind's step directly on populations (the
engine's ``Context``, in the test's transaction), read keys and columns back, and compare with
hand-written SQL. Engine runs through real workers are in ``test_targeting_showcase.py`` and
``test_engine.py``."""

import datetime
from types import SimpleNamespace

from django.db import connection

from audiences import populations
from audiences.models import Schema
from audiences.shapes import Shape
from campaigns.activities import registry
from campaigns.activities.base import Check, Context

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)


def fake_run(pk=1, test=False):
    return SimpleNamespace(pk=pk, test=test, campaign_id=None, campaign=None)


def step(kind_type, options, *inputs, test=False, run=None, key="step"):
    """Run one step of ``kind_type`` with ``options`` (defaults filled) on ``inputs``."""
    kind = registry.get(kind_type)
    ctx = Context(
        run=run or fake_run(test=test),
        activity_run=None,
        key=key,
        options=kind.with_defaults(options),
        inputs={f"in{i}": p for i, p in enumerate(inputs)},
        variables={},
        test=test,
        now=NOW,
    )
    return kind.run(ctx), ctx


def errors(kind_type, options, *shapes, upstream=None):
    """``{(path, message)}`` of ``validate/`` for ``options`` with ``shapes`` flowing in."""
    kind = registry.get(kind_type)
    inbound = {f"in{i}": s for i, s in enumerate(shapes)}
    check = Check("a[0]", inbound, {}, upstream=upstream or {})
    return {(e["path"], e["message"]) for e in kind.check(kind.with_defaults(options), check)}


def audience(schema_name, where=None):
    """The records of ``schema_name`` matching ``where`` as a population."""
    return populations.from_rule(
        schema=Schema.objects.get(name=schema_name), where=where or {"and": []}, now=NOW
    )


def shape(schema_name, **columns):
    return Shape(schema_name, columns)


def fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def keys(population):
    if population is None:
        return None
    return sorted(row[0] for row in fetch(f"SELECT key FROM {population.table_name}"))


def sql_keys(sql, params=()):
    return sorted(row[0] for row in fetch(sql, params))


def rows(population):
    """{key: {alias: value}} of every row of ``population``."""
    names = [c["name"] for c in population.columns]
    cols = "".join(f", {c['column']}" for c in population.columns)
    found = fetch(f"SELECT key{cols} FROM {population.table_name}")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in found}
