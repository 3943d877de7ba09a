"""Model classes for the runtime schemas, built from the metadata in a private app registry.

Contract:
- ``get_model(name)`` returns the model class of schema ``name`` (KeyError when there is none); the
  ORM queries the real table ``data_<name>``.
- Models live in a private ``Apps()``: they are invisible to migrations and to ``django.apps``.
- The set of classes is built once per schema generation. ``ensure_current()`` (called at the start of
  every request by ``SchemaGenerationMiddleware`` and at the start of every job) reads the generation
  token, one cheap query, and rebuilds when another process changed the schemas.
- ``bump()`` is called by every service that changes schema metadata, inside its transaction; it
  rebuilds this process's classes at once (from the metadata this connection sees), so the rest of
  the transaction can use them. A rollback is noticed by the next ``ensure_current()``.

Links: the ``via`` attribute and the link are one column, a ``ForeignKey(db_constraint=False,
db_column=via)`` named after the link, so its ORM attname is ``<link>_id``; use ``attname_of()`` to
map an attribute name to the model attribute that stores it.
"""

import sys
import threading
import uuid

from django.apps import AppConfig
from django.apps.registry import Apps
from django.db import models

from audiences.models import AttributeType, Schema, SchemaGeneration

DATA_APP_LABEL = "audiences_data"

_lock = threading.RLock()
_state = {"token": None, "models": {}}


def scalar_field(attribute):
    """The Django field of a plain (non-key, non-link) attribute of this type."""
    null = not attribute.required
    kind = attribute.type
    if kind == AttributeType.STRING:
        return models.CharField(max_length=None, null=null, db_index=attribute.indexed)
    if kind == AttributeType.TEXT:
        return models.TextField(null=null, db_index=attribute.indexed)
    if kind == AttributeType.INTEGER:
        return models.BigIntegerField(null=null, db_index=attribute.indexed)
    if kind == AttributeType.DECIMAL:
        return models.DecimalField(
            max_digits=attribute.precision or 18,
            decimal_places=attribute.scale if attribute.scale is not None else 4,
            null=null,
            db_index=attribute.indexed,
        )
    field_class = {
        AttributeType.FLOAT: models.FloatField,
        AttributeType.BOOLEAN: models.BooleanField,
        AttributeType.DATE: models.DateField,
        AttributeType.DATETIME: models.DateTimeField,
    }[kind]
    return field_class(null=null, db_index=attribute.indexed)


def field_for(schema, attribute, link=None):
    """The Django field for one attribute (a ForeignKey when it is a link's ``via``)."""
    if attribute.name == schema.primary_key:
        field = scalar_field(attribute)
        field.primary_key, field.null, field.db_index = True, False, False
        return field
    if link is not None:
        return models.ForeignKey(
            _class_name(link.to.name),
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            db_column=attribute.name,
            null=not attribute.required,
            related_name=link.reverse or "+",
            related_query_name=link.reverse or None,
        )
    return scalar_field(attribute)


def _class_name(schema_name):
    return "".join(part.capitalize() for part in schema_name.split("_")) + "Record"


def build_model(schema, apps):
    """One model class for ``schema`` (with prefetched ``attributes`` and ``links``) in ``apps``."""
    links_by_via = {link.via: link for link in schema.links.all()}
    meta = type(
        "Meta", (), {"apps": apps, "app_label": DATA_APP_LABEL, "db_table": schema.table_name}
    )
    attrs = {"__module__": "audiences.dynamic", "Meta": meta, "schema_name": schema.name}
    for attribute in schema.attributes.all():
        link = links_by_via.get(attribute.name)
        attrs[link.name if link else attribute.name] = field_for(schema, attribute, link)
    return type(_class_name(schema.name), (models.Model,), attrs)


class _DataConfig(AppConfig):
    label = DATA_APP_LABEL


def _private_apps():
    """An empty, ready registry with an app config for the data label: without one, get_models()
    skips our classes and reverse links (``store.customers``) are never found."""
    apps = Apps([])
    config = _DataConfig("audiences", sys.modules["audiences"])
    config.apps, config.models = apps, apps.all_models[DATA_APP_LABEL]
    apps.app_configs[DATA_APP_LABEL] = config
    return apps


def build_all():
    """Build a fresh private registry holding one class per schema; returns {name: class}."""
    apps = _private_apps()
    schemas = Schema.objects.prefetch_related("attributes", "links__to")
    return {schema.name: build_model(schema, apps) for schema in schemas}


def _current_token():
    row = SchemaGeneration.objects.filter(pk=1).values_list("token", flat=True).first()
    return row or "none"


def ensure_current():
    """Rebuild this process's classes when the schema generation changed."""
    token = _current_token()
    if token != _state["token"]:
        with _lock:
            _state["models"], _state["token"] = build_all(), token


def bump():
    """Record a schema change (inside the caller's transaction) and rebuild at once."""
    token = uuid.uuid4()
    updated = SchemaGeneration.objects.filter(pk=1).update(value=models.F("value") + 1, token=token)
    if not updated:
        SchemaGeneration.objects.create(pk=1, value=1, token=token)
    with _lock:
        _state["models"], _state["token"] = build_all(), token


def invalidate():
    """Forget this process's classes (after a rolled-back schema change); the next use rebuilds."""
    with _lock:
        _state["models"], _state["token"] = {}, None


def generation():
    """The schema generation this process's classes were built from (builds them if needed)."""
    if _state["token"] is None:
        ensure_current()
    return _state["token"]


def get_model(name):
    """The model class of schema ``name``; KeyError when no such schema exists."""
    if _state["token"] is None:
        ensure_current()
    return _state["models"][name]


def all_models():
    if _state["token"] is None:
        ensure_current()
    return dict(_state["models"])


def attname_of(model, attribute_name):
    """The model attribute storing ``attribute_name`` (``<link>_id`` for a link's via)."""
    for field in model._meta.concrete_fields:
        if field.column == attribute_name:
            return field.attname
    raise KeyError(attribute_name)
