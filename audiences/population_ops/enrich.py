"""Enrichment (design 5.4 ``enrichment``): new typed columns on a population, written with its
keys and columns by one ``INSERT ... SELECT``.

``enrich(*, population, columns, file_rows=None, variables=None, now=None, label="")``;
``columns`` is a list of specs, each with an ``alias``:
- ``{"alias", "field": PATH}``: an attribute along many-to-one links (``store.city``);
- ``{"alias", "aggregate": count|sum|avg|min|max, "link", "field", "where"}`` over a one-to-many
  link, ``where`` a rule on the linked schema; count and sum over nothing are 0, the others null;
- ``{"alias", "collect": N, "link", "fields", "order_by", "where"}``: the first N linked records
  in ``order_by`` (``"field"``/``"-field"``, nulls last, then their key) as the columns
  ``<alias><n>_<field>`` (``last1_amount``, ``last2_amount``...), null where there are fewer;
- ``{"alias", "file_column", "join": {"column", "attribute"}}``: a column of ``file_rows`` (a
  loaded file's rows), from the first line (by line number) whose ``join.column`` equals the
  record's ``join.attribute``.

``column_types(schema, spec, file_shape) -> {name: type}`` says which columns a spec adds (and
raises ``ValidationFailed`` at the spec's keys for what does not exist); validation uses it.
"""

import json

from django.db import connection
from django.db.models import Avg, Count, F, Max, Min, Sum
from django.db.models.expressions import RawSQL

from audiences import dynamic, rules
from audiences.compiler import queryset_for
from audiences.population_ops import tables
from audiences.population_ops.paths import Source
from config.errors import ValidationFailed

AGGREGATES = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}


def _fail(path, message):
    raise ValidationFailed([{"path": path, "message": message}])


def _reverse(schema, link, path):
    """(child schema, its attribute holding the key) of one-to-many ``link`` from ``schema``."""
    meta = rules.metadata().schemas
    if not isinstance(link, str) or link not in meta[schema]["reverse"]:
        _fail(f"{path}.link", f"{link!r} is not a one-to-many link of {schema!r}")
    child, forward = meta[schema]["reverse"][link]
    return child, meta[child]["links"][forward][1]


def _child_type(child, field, path):
    attrs = rules.metadata().schemas[child]["attrs"]
    if field not in attrs:
        _fail(path, f"unknown field {field!r} of schema {child!r}")
    return attrs[field]


def _aggregate_type(schema, spec, path):
    func = spec.get("aggregate")
    child, _fk = _reverse(schema, spec.get("link"), path)
    if func == "count":
        return "integer"
    kind = _child_type(child, spec.get("field"), f"{path}.field")
    if func in ("sum", "avg") and kind not in ("integer", "decimal", "float"):
        _fail(f"{path}.field", f"{func} needs a numeric field, {spec.get('field')!r} is {kind}")
    if func == "avg":
        return "decimal" if kind == "decimal" else "float"
    return kind


def collect_names(spec) -> list[tuple[int, str, str]]:
    """[(n, field, column name)] of a collect spec."""
    return [
        (n, field, f"{spec['alias']}{n}_{field}")
        for n in range(1, int(spec.get("collect") or 0) + 1)
        for field in spec.get("fields") or []
    ]


def column_types(schema: str, spec: dict, file_shape=None, path: str = "column") -> dict:
    if "field" in spec and "aggregate" not in spec:
        _lookup, kind = rules.field_lookup(schema=schema, field=spec["field"], path=f"{path}.field")
        return {spec["alias"]: kind}
    if "aggregate" in spec:
        return {spec["alias"]: _aggregate_type(schema, spec, path)}
    if "collect" in spec:
        child, _fk = _reverse(schema, spec.get("link"), path)
        found = {}
        for index, field in enumerate(spec.get("fields") or []):
            _child_type(child, field, f"{path}.fields[{index}]")
        for _n, field, name in collect_names(spec):
            found[name] = _child_type(child, field, f"{path}.fields")
        return found
    if "file_column" in spec:
        if file_shape is None:
            _fail(f"{path}.file_column", "name the loaded file in the activity's 'file'")
        if spec["file_column"] not in file_shape.columns:
            _fail(f"{path}.file_column", f"the file has no column {spec['file_column']!r}")
        return {spec["alias"]: file_shape.columns[spec["file_column"]]}
    _fail(path, "a column needs field, aggregate, collect or file_column")


def _compiled(queryset):
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def _linked(population, spec, context, correlated):
    child, fk = _reverse(population.schema.name, spec["link"], "column")
    model = dynamic.get_model(child)
    variables, now = context
    queryset = queryset_for(schema=child, where=spec.get("where"), variables=variables, now=now)
    fk_attname = dynamic.attname_of(model, fk)
    if correlated:
        return model, queryset.filter(**{fk_attname: RawSQL("p.key", [])}), fk_attname
    keys = RawSQL(f"SELECT key FROM {population.table_name}", [])
    return model, queryset.filter(**{f"{fk_attname}__in": keys}), fk_attname


def _aggregate_join(population, specs, index, context):
    """One grouped subquery for every aggregate over the same link and filter (``specs``: their
    column indexes and specs), so ``count`` and ``sum`` of purchases scan the purchases once."""
    model, queryset, fk = _linked(population, specs[0][1], context, correlated=False)
    annotations = {}
    for n, spec in specs:
        func = spec["aggregate"]
        # count(*): the rows are those of an inner query, and an index that covers the link and
        # the summed fields then answers every aggregate without reading the table
        field = "*" if func == "count" else dynamic.attname_of(model, spec["field"])
        annotations[f"v{n}_"] = AGGREGATES[func](field)
    grouped = queryset.order_by().values(k_=F(fk)).annotate(**annotations)
    sql, params = _compiled(grouped.values("k_", *annotations))
    alias = f"a{index}"
    return alias, f"LEFT JOIN ({sql}) {alias} ON {alias}.k_ = p.key", params


def _aggregate_value(alias, n, spec):
    value = f"{alias}.v{n}_"
    return f"COALESCE({value}, 0)" if spec["aggregate"] in ("count", "sum") else value


def _group_of(spec) -> tuple:
    return spec["link"], json.dumps(spec.get("where"), sort_keys=True)


def _aggregate_groups(columns) -> dict:
    """Aggregate columns by (link, filter): ``{group: [(index, spec), ...]}``."""
    groups = {}
    for n, spec in enumerate(columns):
        if "aggregate" in spec:
            groups.setdefault(_group_of(spec), []).append((n, spec))
    return groups


def _aggregate_column(population, spec, index, context, groups, joined):
    """The column's value, and its group's join the first time the group is met."""
    group, join, params = _group_of(spec), "", []
    if group not in joined:
        joined[group], join, params = _aggregate_join(population, groups[group], index, context)
    return [_aggregate_value(joined[group], index, spec)], join, params


def _collect_join(population, spec, index, context):
    model, queryset, _fk = _linked(population, spec, context, correlated=True)
    order_by = spec.get("order_by") or "pk"
    descending, name = order_by.startswith("-"), order_by.lstrip("-")
    order = F(dynamic.attname_of(model, name) if name != "pk" else "pk")
    order = order.desc(nulls_last=True) if descending else order.asc(nulls_last=True)
    fields = spec.get("fields") or []
    picked = {f"f{i}": F(dynamic.attname_of(model, f)) for i, f in enumerate(fields)}
    picked.update(o_=F(dynamic.attname_of(model, name) if name != "pk" else "pk"), k_=F("pk"))
    rows = queryset.order_by(order, "pk").values(**picked)[: int(spec["collect"])]
    sql, params = _compiled(rows)
    alias = f"l{index}"
    direction = "DESC" if descending else "ASC"
    values = [
        f"(array_agg(y.f{fields.index(field)} ORDER BY y.o_ {direction} NULLS LAST, y.k_))[{n}]"
        for n, field, _name in collect_names(spec)
    ]
    lateral = ", ".join(f"{v} AS v{i}" for i, v in enumerate(values))
    join = f"LEFT JOIN LATERAL (SELECT {lateral} FROM ({sql}) y) {alias} ON true"
    return [f"{alias}.v{i}" for i in range(len(values))], join, params


def _file_join(source, spec, index, file_rows):
    column = {c["name"]: c["column"] for c in file_rows.columns}
    join = spec.get("join") or {}
    on_value, _kind = source.expr(join.get("attribute"), "join.attribute")
    wanted, key = column[spec["file_column"]], column[join.get("column")]
    alias = f"f{index}"
    derived = (
        f"SELECT DISTINCT ON ({key}) {key} AS j_, {wanted} AS v_ FROM {file_rows.table_name} "
        f"WHERE {key} IS NOT NULL ORDER BY {key}, key"
    )
    return [f"{alias}.v_"], f"LEFT JOIN ({derived}) {alias} ON {alias}.j_ = {on_value}", []


def enrich(*, population, columns, file_rows=None, variables=None, now=None, label=""):
    source, context = Source(population), (variables, now)
    values, joins, params, added = [], [], [], {}
    groups, joined = _aggregate_groups(columns), {}
    for index, spec in enumerate(columns):
        added.update(column_types(population.schema.name, spec, file_rows and _shape(file_rows)))
        if "aggregate" in spec:
            found, join, extra = _aggregate_column(population, spec, index, context, groups, joined)
        elif "collect" in spec:
            found, join, extra = _collect_join(population, spec, index, context)
        elif "file_column" in spec:
            found, join, extra = _file_join(source, spec, index, file_rows)
        else:
            found, join, extra = [source.expr(spec["field"], "field")[0]], "", []
        values += found
        joins += [join] if join else []
        params += extra
    existing = {c["name"]: c["type"] for c in population.columns}
    result = tables.create(schema=population.schema, label=label, columns={**existing, **added})
    picked = "".join(f", {v}" for v in values)
    select = (
        f"SELECT p.key{tables.carried(population)}{picked} FROM {source.from_sql()} "
        f"{' '.join(joins)}"
    )
    return tables.fill(result, select, params)


def _shape(file_rows):
    from audiences.shapes import Shape

    return Shape.of(file_rows)
