"""Compiles validated rules (``audiences.rules``) into ORM querysets on the schema's model.

- ``queryset_for(*, schema, where, variables=None, now=None, population=None) -> QuerySet``
  validates ``where`` (raises ``ValidationFailed``) and returns the matching records of
  ``schema``; with ``population`` only its members, with its added columns readable by
  ``target.ALIAS``.
- ``filter_records(model, where, *, variables=None, now=None) -> QuerySet`` the same for a model
  class (used by ``GET schemas/{name}/records/?where=``).
- ``to_q(node, *, now) -> Q`` the condition of one parsed node.

SQL shapes: many-to-one paths are joins; ``exists`` is an ``EXISTS`` subquery correlated on the
link (nestable); aggregates are ``pk IN (SELECT fk ... GROUP BY fk HAVING ...)`` when the predicate
is false for records without related rows (and always for avg/min/max, null then), else the
complement ``NOT (pk IN (SELECT fk ... WHERE fk IS NOT NULL GROUP BY fk HAVING NOT ...))``; count and
sum are ``COALESCE(..., 0)``. ``ne``/``not_in``/``not_contains`` never match nulls; ``not`` is the
exact complement (nulls included). The evaluation time ``now`` and every value are bound
parameters; ``in_audience`` inlines a rule audience and reads a snapshot's ``pop_<id>`` table.
"""

from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from audiences import dynamic, rules
from audiences.models import Population

FUNCTIONS = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}


def _resolve(value, now):
    if isinstance(value, rules.Now):
        moment = now + value.delta
        if value.date_only:
            return (timezone.localtime(now).date()) + value.delta
        return moment
    if isinstance(value, list):
        return [_resolve(item, now) for item in value]
    return value


def _cmp(node, now):
    spec = rules.OPERATORS[node.op]
    value = _resolve(node.value, now)
    if node.op == "between":
        value = tuple(value)
    q = spec.compile(node.path, value)
    if node.path.startswith("_t_") and node.op not in ("is_null", "is_not_null"):
        # Django's negation adds "OR col IS NULL" for nullable columns, not for annotations
        # such as a population's added column: make the null case explicit.
        q &= Q(**{f"{node.path}__isnull": False})
    return q


def _and(node, now):
    q = Q()
    for child in node.children:
        q &= to_q(child, now=now)
    return q


def _or(node, now):
    if not node.children:
        return Q(pk__in=[])
    q = Q()
    for child in node.children:
        q |= to_q(child, now=now)
    return q


def _not(node, now):
    child = node.children[0]
    if child.kind == "not":
        return to_q(child.children[0], now=now)
    if child.kind in ("and", "or"):
        # De Morgan: NOT (A OR EXISTS ...) becomes NOT A AND NOT EXISTS ..., which PostgreSQL
        # plans as an anti-join; exact, since every compiled condition is two-valued.
        flipped = "or" if child.kind == "and" else "and"
        negated = [rules.Node(kind="not", children=[c]) for c in child.children]
        return to_q(rules.Node(kind=flipped, children=negated, schema=child.schema), now=now)
    inner = to_q(child, now=now)
    return ~inner if inner else Q(pk__in=[])  # Q() matches all, and ~Q() would too


def _related(node, now):
    model = dynamic.get_model(node.schema)
    queryset = model.objects.all()
    if node.children:
        queryset = queryset.filter(to_q(node.children[0], now=now))
    return model, queryset


def _exists(node, now):
    _model, queryset = _related(node, now)
    direction, attname = node.extra["corr"]
    if direction == "reverse":
        queryset = queryset.filter(**{attname: OuterRef("pk")})
    else:
        queryset = queryset.filter(pk=OuterRef(attname))
    return Q(Exists(queryset.values("pk")))


def _aggregate_expression(node, model):
    func, column = node.extra["func"], node.extra["column"]
    if func == "count":
        return Count("pk")
    expression = FUNCTIONS[func](column)
    if func == "sum":
        output = model._meta.get_field(column).__class__
        field = model._meta.get_field(column)
        kwargs = (
            {"max_digits": 65, "decimal_places": field.decimal_places}
            if hasattr(field, "decimal_places")
            else {}
        )
        return Coalesce(expression, Value(0), output_field=output(**kwargs))
    return expression


def _aggregate(node, now):
    model, queryset = _related(node, now)
    fk = node.extra["corr"][1]
    value = _resolve(node.value, now)
    if node.op == "between":
        value = tuple(value)
    spec = rules.OPERATORS[node.op]
    having = spec.compile("agg_value", value)
    grouped = (
        queryset.filter(**{f"{fk}__isnull": False})
        .values(fk)
        .annotate(agg_value=_aggregate_expression(node, model))
    )
    if node.extra["func"] in ("count", "sum"):
        true_when_empty = spec.holds(0, value)
    else:  # avg, min, max are null over no rows: only is_null holds then
        true_when_empty = node.op == "is_null"
    if true_when_empty:
        return ~Q(pk__in=grouped.exclude(having).values(fk))
    return Q(pk__in=grouped.filter(having).values(fk))


def _audience(node, now):
    audience = node.extra["audience"]
    if audience.kind == "rule":
        return to_q(node.children[0], now=now) if node.children else Q()
    if audience.population_id is None:
        return Q(pk__in=[])
    return Q(pk__in=RawSQL(f"SELECT key FROM {Population.table_of(audience.population_id)}", []))


COMPILERS = {
    "and": _and,
    "or": _or,
    "not": _not,
    "cmp": _cmp,
    "exists": _exists,
    "agg": _aggregate,
    "audience": _audience,
}


def to_q(node, *, now):
    return COMPILERS[node.kind](node, now)


def _now(now):
    return now if now is not None else timezone.now()


def queryset_for(*, schema, where, variables=None, now=None, population=None):
    """Records of ``schema`` matching ``where`` at evaluation time ``now`` (default: now)."""
    from audiences import populations

    name = schema if isinstance(schema, str) else schema.name
    targets = None
    model = dynamic.get_model(name)
    base = model.objects.all()
    if population is not None:
        targets = {c["name"]: c["type"] for c in population.columns}
        base = populations.annotate_targets(populations.members(population), population)
    node = rules.parse(schema=name, where=where, variables=variables, targets=targets)
    return base.filter(to_q(node, now=_now(now)))


def filter_records(model, where, *, variables=None, now=None):
    """``model``'s records matching ``where`` (raises ``ValidationFailed`` for a bad rule)."""
    node = rules.parse(schema=model.schema_name, where=where, variables=variables)
    return model.objects.filter(to_q(node, now=_now(now)))
