"""Splitting a population into ordered subsets (design 5.4 ``split``).

``split(*, population, subsets, complement=False, overlap=False, variables=None, now=None,
seed="", label="") -> ({name: Population}, complement Population | None)``

- ``subsets``: ``[{"name", "where", "limit": {"count": N} | {"percent": P}, "order_by"}]`` in
  order; ``where`` is a rule on the population's schema (``target.ALIAS`` reads its columns),
  absent or ``{"and": []}`` for every record; ``limit`` keeps the first N (or P percent, rounded
  down, of the records the subset could take) in the order of ``limit.order_by``: ``"field"``,
  ``"-field"`` (nulls last) or ``"random"`` (the default: ``md5(seed || key)``); ties by key.
- Exclusive (default): a subset takes only records that no earlier subset took, so a record goes
  to the first subset it matches and fits in. With ``overlap`` every subset is evaluated on the
  whole population.
- ``complement``: the records of no subset.

Each subset is one ``INSERT ... SELECT`` (the rule as a semi-join, the earlier subsets as
anti-joins, the limit as ``LIMIT``, or for a percentage a window numbering over the candidates);
every set keeps the population's columns.
"""

from django.db import connection

from audiences.compiler import queryset_for
from audiences.population_ops import tables
from audiences.population_ops.paths import Source, order_sql


def _rule_condition(population, where, variables, now):
    if not where or where == {"and": []}:
        return "", []
    queryset = queryset_for(
        schema=population.schema,
        where=where,
        variables=variables,
        now=now,
        population=population,
    )
    sql, params = queryset.values("pk").query.get_compiler(connection=connection).as_sql()
    return f"p.key IN ({sql})", list(params)


def _select(population, subset, taken, context, path):
    variables, now, seed = context
    source = Source(population)
    rule, params = _rule_condition(population, subset.get("where"), variables, now)
    conditions = [rule] if rule else []
    conditions += [
        f"NOT EXISTS (SELECT 1 FROM {t.table_name} x WHERE x.key = p.key)" for t in taken
    ]
    limit = subset.get("limit") or None
    order, order_params = ("p.key", [])
    if limit is not None:
        order, order_params = order_sql(source, limit.get("order_by") or "random", seed, path)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    picked = f"p.key{tables.carried(population)}"
    if limit is None:
        return f"SELECT {picked} FROM {source.from_sql()}{where}", params
    if "count" in limit:
        sql = f"SELECT {picked} FROM {source.from_sql()}{where} ORDER BY {order} LIMIT %s"
        return sql, [*params, *order_params, int(limit["count"])]
    numbered = (
        f"SELECT {picked}, row_number() OVER (ORDER BY {order}) AS n_ FROM {source.from_sql()}"
        f"{where}"
    )
    names = tables.insert_columns(population)
    sql = (
        f"SELECT {names} FROM ({numbered}) c WHERE n_ <= (SELECT floor(count(*) * %s / 100) "
        f"FROM {population.table_name} p{where})"
    )
    return sql, [*order_params, *params, float(limit["percent"]), *params]


def split(
    *,
    population,
    subsets,
    complement=False,
    overlap=False,
    variables=None,
    now=None,
    seed="",
    label="",
):
    columns = {c["name"]: c["type"] for c in population.columns}
    found, taken = {}, []
    for index, subset in enumerate(subsets):
        path = f"subsets[{index}].limit.order_by"
        sql, params = _select(
            population, subset, [] if overlap else taken, (variables, now, seed), path
        )
        made = tables.create(
            schema=population.schema, label=f"{label} {subset['name']}", columns=columns
        )
        found[subset["name"]] = tables.fill(made, sql, params)
        taken.append(made)
    if not complement:
        return found, None
    rest = tables.create(schema=population.schema, label=f"{label} complement", columns=columns)
    outside = "".join(
        f" AND NOT EXISTS (SELECT 1 FROM {t.table_name} x WHERE x.key = p.key)" for t in taken
    )
    tables.fill(
        rest,
        f"SELECT p.key{tables.carried(population)} FROM {population.table_name} p "
        f"WHERE true{outside}",
    )
    return found, rest
