"""Moving a population along a link path (``change_dimension``, design 5.4).

A link path is link names separated by dots, followed from the population's schema: a link
(many-to-one: purchases -> ``customer``) or a reverse link (one-to-many: customers ->
``purchases``), e.g. ``purchases.product``.

- ``hops(schema, link, path) -> [Hop]``: the steps, or ``ValidationFailed`` at ``path``.
- ``target(schema, link, path) -> (target schema name, keeps_columns)``: ``keeps_columns`` is true
  when every step is one-to-many: each linked record then has exactly one origin, whose added
  columns it keeps. A many-to-one step merges several records into one: the columns are dropped.
- ``move(*, population, link, complement=False, label) -> (moved, unlinked | None)``: the linked
  records (each once; only records that exist: a dangling link leads nowhere), and with
  ``complement`` the records of ``population`` that lead to none (keeping their columns). One
  ``INSERT ... SELECT`` each.
"""

from dataclasses import dataclass

from audiences import rules
from audiences.models import Schema
from audiences.population_ops import tables
from audiences.population_ops.paths import table_of
from audiences.population_ops.tables import q
from config.errors import ValidationFailed


@dataclass(frozen=True)
class Hop:
    forward: bool  # many-to-one
    source: str
    target: str
    column: str  # forward: the source's via; reverse: the target's via (its foreign key)


def hops(schema: str, link, path: str = "link") -> list[Hop]:
    if not isinstance(link, str) or not link:
        raise ValidationFailed([{"path": path, "message": 'a link path such as "purchases"'}])
    meta, current, found = rules.metadata().schemas, schema, []
    for name in link.split("."):
        links, reverse = meta[current]["links"], meta[current]["reverse"]
        if name in links:
            target, via = links[name]
            found.append(Hop(True, current, target, via))
        elif name in reverse:
            child, forward = reverse[name]
            found.append(Hop(False, current, child, meta[child]["links"][forward][1]))
        else:
            message = f"unknown link {name!r} of schema {current!r}"
            raise ValidationFailed([{"path": path, "message": message}])
        current = found[-1].target
    return found


def target(schema: str, link, path: str = "link") -> tuple[str, bool]:
    steps = hops(schema, link, path)
    return steps[-1].target, all(not hop.forward for hop in steps)


def _chain(steps):
    """[(table, alias, join condition)]: the first condition refers to the population ``p``."""
    chain, key, row = [], "p.key", None
    for index, hop in enumerate(steps):
        table, pk = table_of(hop.target)
        alias = f"x{index + 1}"
        if hop.forward:
            if row is None:  # the population holds keys: read the origin record's link column
                origin, origin_pk = table_of(hop.source)
                chain.append((origin, "x0", f"x0.{q(origin_pk)} = p.key"))
                row = "x0"
            chain.append((table, alias, f"{alias}.{q(pk)} = {row}.{q(hop.column)}"))
        else:
            chain.append((table, alias, f"{alias}.{q(hop.column)} = {key}"))
        key, row = f"{alias}.{q(pk)}", alias
    return chain, key


def move(*, population, link: str, complement: bool = False, label: str = ""):
    steps = hops(population.schema.name, link)
    keeps = all(not hop.forward for hop in steps)
    chain, key = _chain(steps)
    joins = " ".join(f"JOIN {q(t)} {a} ON {on}" for t, a, on in chain)
    schema = Schema.objects.get(name=steps[-1].target)
    columns = {c["name"]: c["type"] for c in population.columns} if keeps else {}
    moved = tables.create(schema=schema, label=label, columns=columns)
    select = "SELECT" if keeps else "SELECT DISTINCT"
    carried = tables.carried(population) if keeps else ""
    tables.fill(moved, f"{select} {key}{carried} FROM {population.table_name} p {joins}")
    if not complement:
        return moved, None
    (first_table, first_alias, first_on), rest = chain[0], chain[1:]
    inner = " ".join(f"JOIN {q(t)} {a} ON {on}" for t, a, on in rest)
    unlinked = tables.create(
        schema=population.schema,
        label=f"{label} complement",
        columns={c["name"]: c["type"] for c in population.columns},
    )
    tables.fill(
        unlinked,
        f"SELECT p.key{tables.carried(population)} FROM {population.table_name} p "
        f"WHERE NOT EXISTS (SELECT 1 FROM {q(first_table)} {first_alias} {inner} "
        f"WHERE {first_on})",
    )
    return moved, unlinked
