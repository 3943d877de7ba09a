"""``combine`` on chosen keys (design 5.4): records are the same when their ``keys`` (references,
see ``paths``: attributes such as ``email``, or columns every input has) are equal, not only
when they are the same record.

``combine_on(*, operation, populations, keys, label="") -> Population`` (keys only, like
``populations.combine``; all populations of one schema):
- ``union``: one record per distinct key value, the first found (inputs in order, then by primary
  key); records with a null key (or an empty text) match nothing and are all kept;
- ``intersection``: the records of the first population whose keys appear in every other;
- ``exclusion``: the records of the first population whose keys appear in none of the others.
A null key never matches another null. One ``INSERT ... SELECT``.
"""

from audiences.population_ops import tables
from audiences.population_ops.dedup import key_expression
from audiences.population_ops.paths import Source
from config.errors import ValidationFailed

OPERATIONS = ("union", "intersection", "exclusion")


def _keyed(population, keys, index):
    """``(SELECT p.key, <k0>, <k1>... FROM ...)``: an input with its key values."""
    source = Source(population)
    values = [key_expression(source, k, f"keys[{i}]") for i, k in enumerate(keys)]
    named = "".join(f", {v} AS k{i}" for i, v in enumerate(values))
    return f"(SELECT p.key, {index} AS input_{named} FROM {source.from_sql()})"


def _matches(keys, inner, outer):
    return " AND ".join(f"{inner}.k{i} = {outer}.k{i}" for i in range(len(keys)))


def combine_on(*, operation, populations, keys, label=""):
    if operation not in OPERATIONS or not populations:
        raise ValidationFailed([{"path": "operation", "message": ", ".join(OPERATIONS)}])
    if not keys:
        raise ValidationFailed([{"path": "keys", "message": "name at least one key"}])
    schema = populations[0].schema
    inputs = [_keyed(p, keys, i) for i, p in enumerate(populations)]
    result = tables.create(schema=schema, label=label, columns={})
    if operation == "union":
        nulls = " OR ".join(f"k{i} IS NULL" for i in range(len(keys)))
        partition = ", ".join(f"k{i}" for i in range(len(keys)))
        ranked = (
            f"SELECT key, ({nulls}) AS unkeyed_, row_number() OVER (PARTITION BY {partition} "
            f"ORDER BY input_, key) AS rank_ FROM ({' UNION ALL '.join(inputs)}) u"
        )
        return tables.fill(
            result, f"SELECT DISTINCT key FROM ({ranked}) r WHERE rank_ = 1 OR unkeyed_"
        )
    first, others = inputs[0], inputs[1:]
    test = "EXISTS" if operation == "intersection" else "NOT EXISTS"
    conditions = [
        f"{test} (SELECT 1 FROM {other} b{i} WHERE {_matches(keys, f'b{i}', 'a')})"
        for i, other in enumerate(others)
    ]
    where = " AND ".join(conditions) or "true"
    return tables.fill(result, f"SELECT a.key FROM {first} a WHERE {where}")
