"""The OpenAPI components of the audiences documents (design 5.1 to 5.3 and 6), registered with
``config.api.openapi``: what the views accept and answer, lengths read from the models."""

from audiences.identifiers import MAX_LENGTH as IDENTIFIER_LENGTH
from audiences.models import AttributeType, AudienceKind, ImportStatus, Schema
from audiences.services.records import MISSING_LINKS, MODES
from config.api.openapi import Page, component
from config.inputs import max_length

IDENTIFIER = {
    "type": "string",
    "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$",
    "maxLength": IDENTIFIER_LENGTH,
    "description": "An identifier (design 5.0).",
}
NULLABLE_DATETIME = {"type": "string", "format": "date-time", "nullable": True}
SCALAR = {"nullable": True, "description": "A string, number, boolean or null."}
RULE = {
    "type": "object",
    "additionalProperties": True,
    "description": "A rule (design 5.3): and, or, not, field/op/value, exists, aggregate, "
    "in_audience; at most 64 levels deep.",
}

ATTRIBUTE = {
    "type": "object",
    "properties": {
        "name": IDENTIFIER,
        "type": {"type": "string", "enum": list(AttributeType.values)},
        "required": {"type": "boolean", "default": False},
        "indexed": {"type": "boolean", "default": False},
        "enum": {"type": "array", "items": SCALAR, "minItems": 1},
        "precision": {"type": "integer", "minimum": 1, "maximum": 1000},
        "scale": {"type": "integer", "minimum": 0},
    },
    "required": ["name", "type"],
    "additionalProperties": False,
}
LINK = {
    "type": "object",
    "properties": {
        "name": IDENTIFIER,
        "to": IDENTIFIER,
        "via": IDENTIFIER,
        "reverse": {**IDENTIFIER, "description": "The one-to-many link seen from `to`."},
    },
    "required": ["name", "to", "via"],
    "additionalProperties": False,
}
SCHEMA_FIELDS = {
    "name": IDENTIFIER,
    "label": {"type": "string", "maxLength": max_length(Schema, "label")},
    "primary_key": IDENTIFIER,
    "version_field": IDENTIFIER,
    "targeting": {
        "type": "object",
        "properties": {channel: IDENTIFIER for channel in ("email", "sms", "push")},
        "additionalProperties": False,
    },
    "attributes": {"type": "array", "items": ATTRIBUTE},
    "links": {"type": "array", "items": LINK},
}
READ_ONLY = {
    "table": {"type": "string", "readOnly": True, "description": "The table holding the records."},
    "estimated_records": {
        "type": "integer",
        "nullable": True,
        "readOnly": True,
        "description": "About how many records it holds (exact for small tables).",
    },
}
SCHEMA_DEFINITION = component(
    "SchemaDefinition",
    {
        "type": "object",
        "description": "A schema (design 5.1). `table` and `estimated_records`, as read, are "
        "ignored, so a document read can be posted back.",
        "properties": {**SCHEMA_FIELDS, **READ_ONLY},
        "required": ["name", "primary_key", "attributes"],
        "additionalProperties": False,
    },
)
SCHEMA_LIST = component(
    "SchemaDefinitionList",
    {
        "type": "object",
        "properties": {"schemas": {"type": "array", "items": SCHEMA_DEFINITION, "minItems": 1}},
        "required": ["schemas"],
        "additionalProperties": False,
    },
)
SCHEMA_PATCH = component(
    "SchemaPatch",
    {
        "type": "object",
        "description": "Added attributes and links, an attribute given again with another type "
        "(converted), a new label, targeting or version_field.",
        "properties": {k: v for k, v in SCHEMA_FIELDS.items() if k not in ("name", "primary_key")},
        "additionalProperties": False,
    },
)
SCHEMA = component(
    "Schema",
    {
        "type": "object",
        "properties": {**SCHEMA_FIELDS, **READ_ONLY},
        "required": ["name", "label", "primary_key", "attributes", "links"],
    },
)
SCHEMAS_CREATED = component(
    "SchemasCreated",
    {
        "description": 'The schema, or {"schemas": [...]} when a list was posted.',
        "oneOf": [
            SCHEMA,
            {
                "type": "object",
                "properties": {"schemas": {"type": "array", "items": SCHEMA}},
                "required": ["schemas"],
            },
        ],
    },
)
SCHEMAS_PAGE = Page(SCHEMA)

RULE_QUERY = {
    "schema": {"type": "string", "description": "The schema's name."},
    "where": RULE,
    "variables": {"type": "object", "additionalProperties": True},
}
COUNT_QUERY = component(
    "CountQuery",
    {
        "type": "object",
        "properties": RULE_QUERY,
        "required": ["schema"],
        "additionalProperties": False,
    },
)
PREVIEW_QUERY = component(
    "PreviewQuery",
    {
        "type": "object",
        "properties": {
            **RULE_QUERY,
            "columns": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Field paths (store.city); default: every attribute.",
            },
            "limit": {"type": "integer", "minimum": 0, "maximum": 200, "default": 20},
        },
        "required": ["schema"],
        "additionalProperties": False,
    },
)
DISTRIBUTION_QUERY = component(
    "DistributionQuery",
    {
        "type": "object",
        "properties": {**RULE_QUERY, "field": {"type": "string", "description": "A field path."}},
        "required": ["schema", "field"],
        "additionalProperties": False,
    },
)
COUNTED = {
    "count": {"type": "integer"},
    "elapsed_ms": {"type": "number"},
    "evaluated_at": {"type": "string", "format": "date-time"},
}
COUNT = component("Count", {"type": "object", "properties": COUNTED, "required": list(COUNTED)})
PREVIEW = component(
    "Preview",
    {
        "type": "object",
        "properties": {
            **COUNTED,
            "rows": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "sql": {"type": "string"},
            "params": {"type": "array", "items": {}},
        },
        "required": [*COUNTED, "rows", "sql", "params"],
    },
)
DISTRIBUTION = component(
    "Distribution",
    {
        "type": "object",
        "properties": {
            "field": {"type": "string"},
            "values": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"value": {}, "count": {"type": "integer"}},
                    "required": ["value", "count"],
                },
            },
        },
        "required": ["field", "values"],
    },
)

AUDIENCE = component(
    "Audience",
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "schema": {"type": "string"},
            "kind": {"type": "string", "enum": list(AudienceKind.values)},
            "where": {**RULE, "nullable": True, "description": "Null for a snapshot."},
            "description": {"type": "string"},
            "count": {"type": "integer", "nullable": True},
            "counted_at": NULLABLE_DATETIME,
        },
        "required": ["name", "schema", "kind"],
    },
)
NEW_AUDIENCE = component(
    "NewAudience",
    {
        "type": "object",
        "properties": {
            "name": IDENTIFIER,
            "schema": {"type": "string"},
            "kind": {"type": "string", "enum": list(AudienceKind.values), "default": "rule"},
            "where": RULE,
            "description": {"type": "string"},
        },
        "required": ["name", "schema"],
        "additionalProperties": False,
    },
)
AUDIENCE_CHANGE = component(
    "AudienceChange",
    {
        "type": "object",
        "properties": {"where": RULE, "description": {"type": "string"}},
        "additionalProperties": False,
    },
)
AUDIENCES_PAGE = Page(AUDIENCE)

RECORDS_DOCUMENT = component(
    "RecordsDocument",
    {
        "type": "object",
        "description": "Records to write (design 5.2); keys are attribute names.",
        "properties": {
            "mode": {"type": "string", "enum": list(MODES), "default": "upsert"},
            "atomic": {"type": "boolean", "default": True},
            "missing_links": {"type": "string", "enum": list(MISSING_LINKS), "default": "reject"},
            "records": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": SCALAR},
            },
        },
        "required": ["records"],
        "additionalProperties": False,
    },
)
RECORDS_WRITTEN = component(
    "RecordsWritten",
    {
        "type": "object",
        "properties": {
            "written": {"type": "integer"},
            "skipped_older": {"type": "integer"},
            "rejected": {
                "type": "array",
                "description": "Only when not atomic.",
                "items": {
                    "type": "object",
                    "properties": {"index": {"type": "integer"}, "message": {"type": "string"}},
                },
            },
        },
        "required": ["written", "skipped_older"],
    },
)
RECORDS_PAGE = Page({"type": "object", "additionalProperties": SCALAR})
IMPORT_UPLOAD = component(
    "ImportUpload",
    {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "A CSV file."},
            "mode": {"type": "string", "enum": list(MODES), "default": "upsert"},
            "missing_links": {"type": "string", "enum": list(MISSING_LINKS), "default": "reject"},
        },
        "required": ["file"],
    },
)
IMPORT = component(
    "Import",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "schema": {"type": "string"},
            "status": {"type": "string", "enum": list(ImportStatus.values)},
            "rows": {"type": "integer", "nullable": True},
            "written": {"type": "integer", "nullable": True},
            "unchanged": {
                "type": "integer",
                "nullable": True,
                "description": "Of the rows written, those already stored as the file says, "
                "left as they were.",
            },
            "skipped_older": {"type": "integer", "nullable": True},
            "rejected": {"type": "integer", "nullable": True},
            "percent": {"type": "number", "nullable": True},
            "rows_per_second": {"type": "number", "nullable": True},
            "error": {"type": "string"},
        },
        "required": ["id", "schema", "status"],
    },
)
