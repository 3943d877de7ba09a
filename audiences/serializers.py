"""Schemas as JSON, in the shape of design 5.1, so that what is read can be posted back."""

from audiences import ddl


def attribute_document(attribute):
    out = {"name": attribute.name, "type": attribute.type}
    if attribute.required:
        out["required"] = True
    if attribute.indexed:
        out["indexed"] = True
    if attribute.enum is not None:
        out["enum"] = attribute.enum
    if attribute.type == "decimal":
        out["precision"] = attribute.precision or 18
        out["scale"] = attribute.scale if attribute.scale is not None else 4
    return out


def link_document(link):
    out = {"name": link.name, "to": link.to.name, "via": link.via}
    if link.reverse:
        out["reverse"] = link.reverse
    return out


def schema_document(schema, with_stats=False):
    """One schema (design 5.1); ``with_stats`` adds the read-only ``table`` and
    ``estimated_records`` (``audiences.ddl.estimated_rows``: exact for small tables, the planner's
    estimate for big ones).
    Those two are not part of a definition: strip them before posting a document back."""
    out = {"name": schema.name, "label": schema.label, "primary_key": schema.primary_key}
    if schema.version_field:
        out["version_field"] = schema.version_field
    if schema.targeting:
        out["targeting"] = schema.targeting
    out["attributes"] = [attribute_document(a) for a in schema.attributes.all()]
    out["links"] = [link_document(link) for link in schema.links.all()]
    if with_stats:
        out["table"] = schema.table_name
        out["estimated_records"] = ddl.estimated_rows(schema.table_name)
    return out
