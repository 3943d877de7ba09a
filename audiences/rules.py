"""Rule documents (design 5.3): parsing and validation against the schema metadata.

``parse(*, schema, where, variables=None, var_types=None, targets=None, path="where",
audience=None) -> Node`` returns a validated tree for ``audiences.compiler`` or raises
``ValidationFailed`` listing every error as ``{"path": "where.and[1].field", "message"}``.

- ``variables``: values of the declared variables (``{"var": NAME}`` is replaced by its value,
  typed to the attribute); ``var_types``: declared ``{name: attribute type}`` when only the
  declarations are known (campaign validation): such a tree validates but cannot be compiled.
- ``targets``: ``{alias: attribute type}`` of the population flowing in; None = no population,
  then ``target.ALIAS`` is an error.
- ``audience``: name of the saved audience being saved; an ``in_audience`` chain reaching it is a
  cycle. Saved audiences' rules take no ``var``.

Rules nest at most ``MAX_DEPTH`` (64) levels (design 5.0), counting the rules of the rule audiences
named by ``in_audience``, which the compiler inlines: a deeper condition is an error at its path,
found before the parser (or the compiler, or PostgreSQL's planner) would recurse any deeper.

Operators live in ``OPERATORS``: one entry per operator with the attribute types it applies to, the
shape of its value and its compile function (lookup path, value) -> Q.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone

from audiences import durations
from audiences.models import NUMERIC_TYPES, AttributeType, SavedAudience, Schema
from config.errors import ValidationFailed

T = AttributeType
ALL = set(T.values)
ORDERED = {T.STRING, T.TEXT, T.INTEGER, T.DECIMAL, T.FLOAT, T.DATE, T.DATETIME}
TEXTUAL = {T.STRING, T.TEXT}
TEMPORAL = {T.DATE, T.DATETIME}


def _not_null(path, q):
    return q & Q(**{f"{path}__isnull": False})


@dataclass(frozen=True)
class Operator:
    """One operator: the attribute types it applies to, the shape of its value (``scalar``,
    ``list``, ``pair``, ``none``, ``duration``), its compile function ``(lookup, value) -> Q``
    and ``holds(x, value) -> bool``, the same predicate on Python values (None when it needs the
    evaluation time). ``holds`` evaluates aggregates at zero (count and sum over no related
    records) and the ``test`` activity's conditions, so there is one operator table."""

    types: set
    shape: str  # scalar | list | pair | none | duration
    compile: object
    holds: object = None


def _contains(x, v):
    return isinstance(x, str) and v in x


OPERATORS = {
    "eq": Operator(ALL, "scalar", lambda p, v: Q(**{p: v}), lambda x, v: x == v),
    "ne": Operator(ALL, "scalar", lambda p, v: _not_null(p, ~Q(**{p: v})), lambda x, v: x != v),
    "lt": Operator(ORDERED, "scalar", lambda p, v: Q(**{f"{p}__lt": v}), lambda x, v: x < v),
    "lte": Operator(ORDERED, "scalar", lambda p, v: Q(**{f"{p}__lte": v}), lambda x, v: x <= v),
    "gt": Operator(ORDERED, "scalar", lambda p, v: Q(**{f"{p}__gt": v}), lambda x, v: x > v),
    "gte": Operator(ORDERED, "scalar", lambda p, v: Q(**{f"{p}__gte": v}), lambda x, v: x >= v),
    "in": Operator(ALL, "list", lambda p, v: Q(**{f"{p}__in": v}), lambda x, v: x in v),
    "not_in": Operator(
        ALL, "list", lambda p, v: _not_null(p, ~Q(**{f"{p}__in": v})), lambda x, v: x not in v
    ),
    "between": Operator(
        ORDERED, "pair", lambda p, v: Q(**{f"{p}__range": v}), lambda x, v: v[0] <= x <= v[1]
    ),
    "contains": Operator(TEXTUAL, "scalar", lambda p, v: Q(**{f"{p}__contains": v}), _contains),
    "not_contains": Operator(
        TEXTUAL,
        "scalar",
        lambda p, v: _not_null(p, ~Q(**{f"{p}__contains": v})),
        lambda x, v: isinstance(x, str) and v not in x,
    ),
    "starts_with": Operator(
        TEXTUAL,
        "scalar",
        lambda p, v: Q(**{f"{p}__startswith": v}),
        lambda x, v: isinstance(x, str) and x.startswith(v),
    ),
    "ends_with": Operator(
        TEXTUAL,
        "scalar",
        lambda p, v: Q(**{f"{p}__endswith": v}),
        lambda x, v: isinstance(x, str) and x.endswith(v),
    ),
    "is_null": Operator(
        ALL, "none", lambda p, v: Q(**{f"{p}__isnull": True}), lambda x, v: x is None
    ),
    "is_not_null": Operator(
        ALL, "none", lambda p, v: Q(**{f"{p}__isnull": False}), lambda x, v: x is not None
    ),
    "in_last": Operator(TEMPORAL, "duration", lambda p, v: Q(**{f"{p}__gte": v})),
    "not_in_last": Operator(TEMPORAL, "duration", lambda p, v: Q(**{f"{p}__lt": v})),
}
# Operators an aggregate (count, sum...) can be compared with: numbers, not text or durations.
AGGREGATE_OPERATORS = {
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "between",
    "is_null",
    "is_not_null",
}
AGGREGATES = {"count", "sum", "avg", "min", "max"}
MAX_DEPTH = 64


@dataclass(frozen=True)
class Now:
    """A time relative to the evaluation time (``{"now": "-18y"}`` or an ``in_last`` bound)."""

    delta: object
    date_only: bool


@dataclass
class Node:
    kind: str  # and | or | not | cmp | exists | agg | audience
    children: list = field(default_factory=list)
    path: str = ""  # ORM lookup path (cmp, agg field) or link name (exists, agg)
    op: str = ""
    value: object = None
    type: str = ""
    schema: str = ""  # schema of the records the node is evaluated on (exists/agg: related)
    extra: dict = field(default_factory=dict)


class Metadata:
    """Attributes, links and reverse links of every schema, loaded once."""

    def __init__(self):
        self.schemas = {}
        schemas = Schema.objects.prefetch_related("attributes", "links__to")
        for schema in schemas:
            self.schemas[schema.name] = {
                "pk": schema.primary_key,
                "attrs": {a.name: a.type for a in schema.attributes.all()},
                "links": {ln.name: (ln.to.name, ln.via) for ln in schema.links.all()},
                "reverse": {},
            }
        for schema in schemas:
            for link in schema.links.all():
                if link.reverse and link.to.name in self.schemas:
                    self.schemas[link.to.name]["reverse"][link.reverse] = (schema.name, link.name)


_metadata_cache = {}


def metadata():
    """The Metadata of the current schema generation (built once per generation)."""
    from audiences import dynamic

    token = dynamic.generation()
    if token not in _metadata_cache:
        _metadata_cache.clear()
        _metadata_cache[token] = Metadata()
    return _metadata_cache[token]


class _Parser:
    def __init__(self, meta, variables, var_types, targets, audience, stack, depth=0):
        self.meta, self.variables, self.var_types = meta, variables, var_types
        self.targets, self.audience, self.stack = targets, audience, stack
        self.depth = depth  # conditions open above the current one (in_audience rules included)
        self.errors = []

    def error(self, path, message):
        self.errors.append({"path": path, "message": message})

    def cond(self, doc, schema, path):
        if self.depth >= MAX_DEPTH:
            self.error(path, f"rules nest at most {MAX_DEPTH} levels (with the audiences they use)")
            return None
        self.depth += 1
        try:
            return self.condition(doc, schema, path)
        finally:
            self.depth -= 1

    def condition(self, doc, schema, path):
        if not isinstance(doc, dict):
            self.error(path, "a condition is an object")
            return None
        for key, method in (
            ("and", self.group),
            ("or", self.group),
            ("not", self.negate),
            ("exists", self.exists),
            ("aggregate", self.aggregate),
            ("in_audience", self.in_audience),
            ("field", self.compare),
        ):
            if key in doc:
                return method(doc, schema, path, key)
        self.error(
            path,
            "unknown condition: expected and, or, not, field, exists, aggregate or in_audience",
        )
        return None

    def group(self, doc, schema, path, key):
        items = doc[key]
        if not isinstance(items, list):
            self.error(f"{path}.{key}", "a list of conditions")
            return None
        children = [self.cond(c, schema, f"{path}.{key}[{i}]") for i, c in enumerate(items)]
        return Node(kind=key, children=children, schema=schema)

    def negate(self, doc, schema, path, key):
        return Node(kind="not", children=[self.cond(doc["not"], schema, f"{path}.not")])

    def related(self, schema, link, path):
        """(related schema, ORM lookup, correlation) of a link followed from ``schema``."""
        meta = self.meta.schemas[schema]
        if isinstance(link, str) and link in meta["reverse"]:
            child, forward = meta["reverse"][link]
            return child, link, ("reverse", f"{forward}_id")
        if isinstance(link, str) and link in meta["links"]:
            return meta["links"][link][0], link, ("forward", f"{link}_id")
        self.error(path, f"unknown link {link!r} of schema {schema!r}")
        return None, None, None

    def exists(self, doc, schema, path, key):
        child, lookup, corr = self.related(schema, doc["exists"], f"{path}.exists")
        if child is None:
            return None
        sub = self.cond(doc["where"], child, f"{path}.where") if "where" in doc else None
        return Node(
            kind="exists",
            children=[sub] if sub else [],
            path=lookup,
            schema=child,
            extra={"corr": corr},
        )

    def aggregate(self, doc, schema, path, key):
        func = doc["aggregate"]
        if func not in AGGREGATES:
            self.error(f"{path}.aggregate", "one of count, sum, avg, min, max")
            return None
        child, lookup, corr = self.related(schema, doc.get("link"), f"{path}.link")
        if child is None:
            return None
        if corr[0] != "reverse":
            self.error(f"{path}.link", "an aggregate follows a one-to-many (reverse) link")
            return None
        value_type, column = T.INTEGER, None
        if func != "count":
            column = doc.get("field")
            attrs = self.meta.schemas[child]["attrs"]
            if column not in attrs:
                self.error(f"{path}.field", f"{func} needs a field of {child!r}")
                return None
            value_type = attrs[column]
            if func in ("sum", "avg") and value_type not in NUMERIC_TYPES:
                self.error(
                    f"{path}.field", f"{func} needs a numeric field, {column!r} is {value_type}"
                )
                return None
            if func == "avg":
                value_type = T.DECIMAL if value_type == T.DECIMAL else T.FLOAT
            column = self.orm_attr(child, column)
        sub = self.cond(doc["where"], child, f"{path}.where") if "where" in doc else None
        op, value = self.operand(doc, value_type, path, aggregate=func in ("count", "sum"))
        return Node(
            kind="agg",
            children=[sub] if sub else [],
            path=lookup,
            op=op,
            value=value,
            type=value_type,
            schema=child,
            extra={"func": func, "column": column, "corr": corr},
        )

    def orm_attr(self, schema, name):
        from audiences import dynamic

        return dynamic.attname_of(dynamic.get_model(schema), name)

    def in_audience(self, doc, schema, path, key):
        name = doc["in_audience"]
        audience = SavedAudience.objects.filter(name=name).select_related("schema").first()
        if audience is None:
            self.error(f"{path}.in_audience", f"no saved audience named {name!r}")
            return None
        if audience.schema.name != schema:
            self.error(
                f"{path}.in_audience",
                f"audience {name!r} is on {audience.schema.name!r}, not {schema!r}",
            )
            return None
        if name == self.audience or name in self.stack:
            self.error(f"{path}.in_audience", f"in_audience {name!r} makes a cycle")
            return None
        node = Node(kind="audience", schema=schema, extra={"audience": audience})
        if audience.kind == "rule":
            inner = _Parser(
                self.meta, None, None, None, self.audience, self.stack + [name], self.depth
            )
            sub = inner.cond(audience.where or {"and": []}, schema, f"{path}.in_audience")
            for err in inner.errors:
                self.error(f"{path}.in_audience", f"audience {name!r}: {err['message']}")
            node.children = [sub] if sub else []
        return node

    def field_path(self, schema, text, path):
        """(ORM lookup, attribute type) of ``store.city`` / ``target.ALIAS``; None when wrong."""
        if not isinstance(text, str) or not text:
            self.error(path, 'a field path such as "country" or "store.city"')
            return None, None
        parts = text.split(".")
        if (
            parts[0] == "target"
            and len(parts) == 2
            and "target" not in self.meta.schemas[schema]["attrs"]
        ):
            if self.targets is None:
                self.error(path, "target.ALIAS is only valid where a population flows in")
                return None, None
            if parts[1] not in self.targets:
                self.error(path, f"the population has no column {parts[1]!r}")
                return None, None
            return f"_t_{parts[1]}", self.targets[parts[1]]
        lookups, current = [], schema
        for part in parts[:-1]:
            links = self.meta.schemas[current]["links"]
            if part not in links:
                self.error(path, f"unknown link {part!r} of schema {current!r}")
                return None, None
            lookups.append(part)
            current = links[part][0]
        attrs = self.meta.schemas[current]["attrs"]
        if parts[-1] not in attrs:
            self.error(path, f"unknown field {parts[-1]!r} of schema {current!r}")
            return None, None
        lookups.append(self.orm_attr(current, parts[-1]))
        return "__".join(lookups), attrs[parts[-1]]

    def compare(self, doc, schema, path, key):
        lookup, kind = self.field_path(schema, doc["field"], f"{path}.field")
        if lookup is None:
            return None
        op, value = self.operand(doc, kind, path)
        if op is None:
            return None
        return Node(kind="cmp", path=lookup, op=op, value=value, type=kind, schema=schema)

    def operand(self, doc, kind, path, aggregate=False):
        op = doc.get("op")
        spec = OPERATORS.get(op)
        if spec is None or (aggregate and op not in AGGREGATE_OPERATORS):
            self.error(f"{path}.op", f"unknown operator {op!r}")
            return None, None
        if kind not in spec.types:
            self.error(f"{path}.op", f"{op} does not apply to a {kind} value")
            return None, None
        if spec.shape == "none":
            return op, None
        if "var" in doc:
            if self.audience is not None or self.stack:
                self.error(f"{path}.var", "rules of saved audiences take no var")
                return None, None
            return op, self.variable(doc["var"], kind, spec, f"{path}.var")
        if "value" not in doc:
            self.error(f"{path}.value", f"{op} needs a value")
            return None, None
        return op, self.typed_operand(doc["value"], kind, spec, f"{path}.value")

    def variable(self, name, kind, spec, path):
        if self.variables is not None and name in self.variables:
            return self.typed_operand(self.variables[name], kind, spec, path)
        if self.var_types is not None and name in self.var_types:
            return None
        self.error(path, f"undeclared variable {name!r}")
        return None

    def typed_operand(self, value, kind, spec, path):
        if spec.shape == "duration":
            try:
                return Now(-durations.parse(value, path=path), kind == T.DATE)
            except durations.DurationError as exc:
                self.error(exc.path, exc.message)
                return None
        if spec.shape in ("list", "pair"):
            if not isinstance(value, list) or (spec.shape == "pair" and len(value) != 2):
                self.error(path, "a list of values" if spec.shape == "list" else "[low, high]")
                return None
            return [self.scalar(v, kind, f"{path}[{i}]") for i, v in enumerate(value)]
        return self.scalar(value, kind, path)

    def scalar(self, value, kind, path):
        if isinstance(value, dict) and set(value) == {"now"} and kind in TEMPORAL:
            try:
                return Now(
                    durations.parse(value["now"], path=f"{path}.now", signed=True), kind == T.DATE
                )
            except durations.DurationError as exc:
                self.error(exc.path, exc.message)
                return None
        try:
            return COERCE[kind](value)
        except (TypeError, ValueError, InvalidOperation):
            self.error(path, f"expected a {kind} value, got {value!r}")
            return None


def _string(value):
    if not isinstance(value, str):
        raise TypeError
    return value


def _integer(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return value


def _decimal(value):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    return Decimal(str(value))


def _float(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError
    return float(value)


def _boolean(value):
    if not isinstance(value, bool):
        raise TypeError
    return value


def _date(value):
    return datetime.date.fromisoformat(_string(value))


def _datetime(value):
    parsed = datetime.datetime.fromisoformat(_string(value))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


COERCE = {
    T.STRING: _string,
    T.TEXT: _string,
    T.INTEGER: _integer,
    T.DECIMAL: _decimal,
    T.FLOAT: _float,
    T.BOOLEAN: _boolean,
    T.DATE: _date,
    T.DATETIME: _datetime,
}


def field_lookup(*, schema, field, targets=None, path="field"):
    """``(ORM lookup, attribute type)`` of a field path (``store.city``, ``target.ALIAS`` when
    ``targets`` gives the population's columns) on ``schema``; raises ``ValidationFailed``."""
    parser = _Parser(metadata(), None, None, targets, None, [])
    name = schema if isinstance(schema, str) else schema.name
    if name not in parser.meta.schemas:
        raise ValidationFailed([{"path": "schema", "message": f"no schema named {name!r}"}])
    lookup, kind = parser.field_path(name, field, path)
    if lookup is None:
        raise ValidationFailed(parser.errors)
    return lookup, kind


def check(
    *, schema, where, variables=None, var_types=None, targets=None, path="where", audience=None
):
    """The errors of a rule as ``[{"path", "message"}]`` (empty when valid)."""
    try:
        parse(
            schema=schema,
            where=where,
            variables=variables,
            var_types=var_types,
            targets=targets,
            path=path,
            audience=audience,
        )
    except ValidationFailed as exc:
        return exc.errors
    return []


def parse(
    *, schema, where, variables=None, var_types=None, targets=None, path="where", audience=None
):
    """The validated tree of ``where`` on ``schema`` (a Schema or its name)."""
    name = schema if isinstance(schema, str) else schema.name
    meta = metadata()
    if name not in meta.schemas:
        raise ValidationFailed([{"path": "schema", "message": f"no schema named {name!r}"}])
    if audience is not None and (variables or var_types):
        raise ValidationFailed([{"path": path, "message": "saved audiences take no var"}])
    parser = _Parser(meta, variables, var_types, targets, audience, [])
    node = parser.cond({"and": []} if where is None else where, name, path)
    if parser.errors:
        raise ValidationFailed(parser.errors)
    return node
