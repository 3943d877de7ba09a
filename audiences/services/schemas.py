"""Defining and changing schemas (design 5.1): metadata, tables and the runtime models together.

Every function is keyword-only, runs in one transaction serialized with every other schema change
(a transaction-level advisory lock), validates through ``audiences.schema_definitions``, changes the
tables through ``audiences.ddl``, calls ``dynamic.bump()`` and writes the audit trail. Bad input
raises ``ValidationFailed`` (400 with JSON paths); a refused action raises ``Conflict`` (409).
"""

from contextlib import contextmanager

from django.db import connection, transaction

from audiences import ddl, dynamic, usage
from audiences.models import Attribute, Link, Schema
from audiences.schema_definitions import join, resolve_create
from audiences.schema_patches import resolve_patch
from config.audit import log_change
from config.errors import Conflict, ValidationFailed

SCHEMA_CHANGE_LOCK = 7_303_001  # pg_advisory_xact_lock key shared by all schema changes


@contextmanager
def _schema_change():
    """One transaction, serialized with every other schema change; when it fails, this process's
    runtime models (rebuilt by ``bump()`` inside it) are forgotten so they match the database."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_CHANGE_LOCK])
            dynamic.ensure_current()
            yield
    except BaseException:
        dynamic.invalidate()
        raise


def _attribute_values(spec):
    return {
        "type": spec.type,
        "required": spec.required,
        "indexed": spec.indexed,
        "enum": spec.enum,
        "precision": spec.precision,
        "scale": spec.scale,
    }


def _create_attribute(schema, spec, position):
    required = spec.required or spec.name == schema.primary_key
    values = {**_attribute_values(spec), "required": required}
    return Attribute.objects.create(schema=schema, name=spec.name, position=position, **values)


def _create_link(schema, spec, position):
    return Link.objects.create(
        schema=schema,
        name=spec.name,
        to=Schema.objects.get(name=spec.to),
        via=spec.via,
        reverse=spec.reverse,
        position=position,
    )


def create_schemas(*, document, user=None):
    """Create the schemas of ``document`` (one schema, or ``{"schemas": [...]}`` resolved
    together) with their tables; returns the new Schema objects in document order."""
    with _schema_change():
        specs = resolve_create(document)
        schemas = []
        for spec in specs:
            schema = Schema.objects.create(
                name=spec.name,
                label=spec.label,
                primary_key=spec.primary_key,
                version_field=spec.version_field,
                targeting=spec.targeting,
            )
            for position, attribute in enumerate(spec.attributes):
                _create_attribute(schema, attribute, position)
            schemas.append(schema)
        for schema, spec in zip(schemas, specs, strict=True):
            for position, link in enumerate(spec.links):
                _create_link(schema, link, position)
        dynamic.bump()
        ddl.create_tables([dynamic.get_model(spec.name) for spec in specs])
        for schema in schemas:
            log_change(user=user, obj=schema, action="add", message=f"Schema {schema.name} defined")
    return schemas


def _refuse_required_on_filled_table(schema, plan):
    required = [a for a in plan.added_attributes if a.required]
    if required and ddl.has_rows(schema.table_name):
        raise ValidationFailed(
            [
                {"path": join(a.path, "required"), "message": "the table has records without it"}
                for a in required
            ]
        )


def _apply_metadata(schema, merged, plan):
    for key in plan.changed_settings:
        setattr(schema, key, getattr(merged, key))
    schema.save()
    position = schema.attributes.count()
    for offset, attribute in enumerate(plan.added_attributes):
        _create_attribute(schema, attribute, position + offset)
    for _old, new in plan.changed_attributes:
        Attribute.objects.filter(schema=schema, name=new.name).update(**_attribute_values(new))
    position = schema.links.count()
    for offset, link in enumerate(plan.added_links):
        _create_link(schema, link, position + offset)


def _alter_tables(schema, plan, old_model):
    new_model = dynamic.get_model(schema.name)
    added = [a.name for a in plan.added_attributes]
    ddl.add_columns(new_model, added)
    altered = {new.name: new.path for _old, new in plan.changed_attributes}
    for column, path in altered.items():
        ddl.alter_column(old_model, new_model, column, join(path, "type"), join(path, "required"))
    for link in plan.added_links:
        if link.via not in added and link.via not in altered:
            ddl.alter_column(old_model, new_model, link.via, join(link.path, "via"))


def add_to_schema(*, name, document, user=None):
    """Apply a patch (design 5.1): add attributes and links, change settings, convert an
    attribute's type when every stored value converts. Returns the Schema."""
    with _schema_change():
        schema = Schema.objects.get(name=name)
        merged, plan = resolve_patch(name, document)
        _refuse_required_on_filled_table(schema, plan)
        old_model = dynamic.get_model(name)
        _apply_metadata(schema, merged, plan)
        dynamic.bump()
        _alter_tables(schema, plan, old_model)
        log_change(
            user=user,
            obj=schema,
            action="change",
            message=f"Schema {name} changed",
            details={
                "added_attributes": [a.name for a in plan.added_attributes],
                "changed_attributes": [new.name for _old, new in plan.changed_attributes],
                "added_links": [link.name for link in plan.added_links],
                "changed_settings": plan.changed_settings,
            },
        )
    return schema


def _refuse_if_used(what, users, confirm, consequence):
    if users:
        raise Conflict(f"{what} is in use, by: " + "; ".join(dict.fromkeys(users)))
    if not confirm:
        raise ValidationFailed(
            [{"path": "confirm", "message": f"{consequence}: repeat with confirm=true"}]
        )


def delete_attribute(*, schema_name, attribute_name, confirm=False, user=None):
    """Drop an attribute and its column; refused while used (409) or without ``confirm`` (400)."""
    with _schema_change():
        schema = Schema.objects.get(name=schema_name)
        attribute = schema.attributes.get(name=attribute_name)
        _refuse_if_used(
            f"attribute {schema_name}.{attribute_name}",
            usage.users_of(schema_name, attribute_name),
            confirm,
            f"deleting {schema_name}.{attribute_name} drops the column and all its values",
        )
        ddl.drop_column(dynamic.get_model(schema_name), attribute_name)
        attribute.delete()
        dynamic.bump()
        log_change(
            user=user, obj=schema, action="change", message=f"Attribute {attribute_name} deleted"
        )


def delete_link(*, schema_name, link_name, confirm=False, user=None):
    """Remove a link (and its reverse); its ``via`` attribute and values stay. Refused while the
    link or its reverse is used (409: ``usage.users_of`` is asked with the link's name, links and
    attributes sharing one namespace) or without ``confirm`` (400)."""
    with _schema_change():
        schema = Schema.objects.get(name=schema_name)
        link = schema.links.select_related("to").get(name=link_name)
        users = [
            u
            for u in usage.users_of(schema_name, link_name)
            if u != f"link {schema_name}.{link_name}"
        ]
        if link.reverse:
            users += usage.users_of(link.to.name, link.reverse)
        _refuse_if_used(
            f"link {schema_name}.{link_name}",
            users,
            confirm,
            f"deleting link {schema_name}.{link_name} keeps {link.via} as a plain attribute",
        )
        old_model = dynamic.get_model(schema_name)
        link.delete()
        dynamic.bump()
        ddl.alter_column(old_model, dynamic.get_model(schema_name), link.via, "via")
        log_change(user=user, obj=schema, action="change", message=f"Link {link_name} deleted")


def delete_schema(*, name, confirm=False, user=None):
    """Drop a schema and its table; refused while used (409) or without ``confirm`` (400)."""
    with _schema_change():
        schema = Schema.objects.get(name=name)
        _refuse_if_used(
            f"schema {name}",
            usage.users_of(name),
            confirm,
            f"deleting schema {name} drops table {schema.table_name} and all its records",
        )
        ddl.drop_table(dynamic.get_model(name))
        log_change(user=user, obj=schema, action="delete", message=f"Schema {name} deleted")
        schema.delete()
        dynamic.bump()
