"""The field tree of a schema, for the rule builder (design 12) and other editors of rules.

``field_tree(schema) -> dict`` (``GET /api/schemas/{name}/fields/``, docs/rules.md):

- ``schema``: the name asked for; ``schemas``: every schema reachable from it through links in
  either direction, ``{name: {"label", "primary_key", "attributes": [{"name", "type", "enum",
  "required"}], "links": [{"name", "to", "via"}] (many-to-one: fields ``store.city``),
  "reverse": [{"name", "schema", "link"}] (one-to-many: ``exists`` and aggregates)}}``, so a
  client follows links at any depth without asking again;
- ``operators``: ``{op: {"types": [...], "shape"}}`` from ``audiences.rules.OPERATORS``
  (``shape``: scalar, list, pair, none or duration), ``aggregate_operators`` and ``aggregates``;
- ``audiences``: the saved audiences on this schema (for ``in_audience``);
- ``duration_units``: the units of durations (design 5.0).
"""

from audiences import durations, rules
from audiences.models import SavedAudience, Schema


def _describe(schema: Schema) -> dict:
    return {
        "label": schema.label or schema.name,
        "primary_key": schema.primary_key,
        "attributes": [
            {"name": a.name, "type": a.type, "enum": a.enum or None, "required": a.required}
            for a in schema.attributes.all()
        ],
        "links": [{"name": ln.name, "to": ln.to.name, "via": ln.via} for ln in schema.links.all()],
        "reverse": [
            {"name": ln.reverse, "schema": ln.schema.name, "link": ln.name}
            for ln in schema.incoming_links.all()
            if ln.reverse
        ],
    }


def _reachable(root: Schema) -> dict:
    everything = {
        s.name: s
        for s in Schema.objects.prefetch_related(
            "attributes", "links__to", "incoming_links__schema"
        )
    }
    found, todo = {}, [root.name]
    while todo:
        name = todo.pop()
        if name in found or name not in everything:
            continue
        found[name] = _describe(everything[name])
        todo += [ln["to"] for ln in found[name]["links"]]
        todo += [ln["schema"] for ln in found[name]["reverse"]]
    return found


def operators() -> dict:
    """The operator table as the rule builder reads it."""
    return {
        name: {"types": sorted(spec.types), "shape": spec.shape}
        for name, spec in rules.OPERATORS.items()
    }


def field_tree(schema: Schema) -> dict:
    return {
        "schema": schema.name,
        "schemas": _reachable(schema),
        "operators": operators(),
        "aggregate_operators": sorted(rules.AGGREGATE_OPERATORS),
        "aggregates": sorted(rules.AGGREGATES),
        "audiences": list(
            SavedAudience.objects.filter(schema=schema).values_list("name", flat=True)
        ),
        "duration_units": list(durations.UNITS),
    }
