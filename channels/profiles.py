"""Loading the personalization data of a chunk of recipients: ONE query for the profiles (with
the many-to-one links the templates use, joined) and one for the population's columns, never a
query per recipient. Values are plain Python values in plain dicts.

- ``load_profiles(schema, keys, links) -> {key as text: dict}``: every attribute of the schema by
  name, each link of ``links`` (``"store"``, ``"store__region"``) as a nested dict of its schema's
  attributes (all None when the linked record is missing);
- ``load_targets(population, keys) -> {key as text: {alias: value}}``.
"""

from django.db import connection

from audiences import dynamic
from audiences.models import Population


def _fields(model):
    """``[(attribute name, ORM attname)]`` of a schema model's columns."""
    return [(f.column, f.attname) for f in model._meta.concrete_fields]


def _link_model(model, path):
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
    return model


def load_profiles(schema, keys, links=()) -> dict:
    model = dynamic.get_model(schema.name)
    lookups = {f"{name}": attname for name, attname in _fields(model)}
    usable = []
    for path in links:
        try:
            target = _link_model(model, path)
        except Exception:  # a link the schema no longer has renders empty
            continue
        usable.append(path)
        for name, attname in _fields(target):
            lookups[f"{path}__{name}"] = f"{path}__{attname}"
    rows = model.objects.filter(pk__in=list(keys)).values(*lookups.values())
    pk = model._meta.pk.attname
    found = {}
    for row in rows:
        profile = {}
        for label, lookup in lookups.items():
            parts = label.split("__")
            node = profile
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = row[lookup]
        found[str(row[pk])] = profile
    return found


def load_targets(population, keys) -> dict:
    if population is None or not population.columns:
        return {}
    model = dynamic.get_model(population.schema.name)
    key_type = model._meta.pk.db_type(connection)
    columns = ", ".join(c["column"] for c in population.columns)
    table = Population.table_of(population.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, {columns} FROM {table} WHERE key = ANY(%s::{key_type}[])", [list(keys)]
        )
        rows = cursor.fetchall()
    names = [c["name"] for c in population.columns]
    return {str(row[0]): dict(zip(names, row[1:], strict=True)) for row in rows}
