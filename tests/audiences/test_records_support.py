"""Shared fixtures of the records and imports tests: a small retail schema set."""

import importlib

from django.db import connection

from audiences import dynamic
from audiences.models import Attribute, Link, Schema

DOCUMENT = {
    "schemas": [
        {
            "name": "store",
            "primary_key": "store_id",
            "attributes": [
                {"name": "store_id", "type": "string"},
                {"name": "city", "type": "string"},
            ],
        },
        {
            "name": "customer",
            "primary_key": "customer_id",
            "version_field": "updated_at",
            "targeting": {"email": "email"},
            "attributes": [
                {"name": "customer_id", "type": "string"},
                {"name": "email", "type": "string", "indexed": True},
                {"name": "country", "type": "string", "enum": ["FR", "DE", "US"]},
                {"name": "birth_date", "type": "date"},
                {"name": "loyalty_points", "type": "integer", "required": True},
                {"name": "balance", "type": "decimal", "precision": 8, "scale": 2},
                {"name": "score", "type": "float"},
                {"name": "vip", "type": "boolean"},
                {"name": "store_id", "type": "string"},
                {"name": "updated_at", "type": "datetime"},
            ],
            "links": [{"name": "store", "to": "store", "via": "store_id", "reverse": "customers"}],
        },
    ]
}


def _own_define(document):
    """Metadata rows + tables, for when audiences.services.schemas is not there."""
    for item in document["schemas"]:
        schema = Schema.objects.create(
            name=item["name"],
            primary_key=item["primary_key"],
            version_field=item.get("version_field", ""),
            targeting=item.get("targeting", {}),
        )
        for position, attribute in enumerate(item["attributes"]):
            Attribute.objects.create(schema=schema, position=position, **attribute)
    for item in document["schemas"]:
        for link in item.get("links", []):
            Link.objects.create(
                schema=Schema.objects.get(name=item["name"]),
                to=Schema.objects.get(name=link["to"]),
                **{k: v for k, v in link.items() if k != "to"},
            )
    dynamic.bump()
    with connection.schema_editor() as editor:
        for item in document["schemas"]:
            editor.create_model(dynamic.get_model(item["name"]))


def define(document=DOCUMENT):
    """Define the schemas of ``document`` (design 5.1) with their tables."""
    try:
        services = importlib.import_module("audiences.services.schemas")
    except ImportError:
        services = None
    if services is not None and hasattr(services, "create_schemas"):
        services.create_schemas(document=document)
    else:
        _own_define(document)
    dynamic.bump()


def drop_data_tables():
    """Transactional tests commit their DDL: drop every schema table (before and after them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'data\\_%'"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE "{table}" CASCADE')
