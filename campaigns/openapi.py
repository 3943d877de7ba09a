"""The OpenAPI components of the campaign documents, derived from the activity registry.

Each kind's option schema (design 9) becomes one component, ``<Type>Activity`` (for example
``BuildAudienceActivity``), and ``CampaignDefinition`` (design 5.4) lists them in ``activities``
as a ``oneOf`` discriminated by ``type``. ``add_components`` is a drf-spectacular
postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``); views refer to the
components with ``ref(name)``. Nothing here is written by hand per kind.
"""

import copy

from campaigns.activities import registry

IDENTIFIER = {"type": "string", "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$", "maxLength": 40}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(item: dict) -> dict:
    """A page of ``item`` (``?page=``, ``?page_size=``), as the API's pagination answers."""
    return {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": "string", "format": "uri", "nullable": True},
            "previous": {"type": "string", "format": "uri", "nullable": True},
            "results": {"type": "array", "items": item},
        },
        "required": ["count", "results"],
    }


def component_name(kind) -> str:
    return "".join(part.capitalize() for part in kind.type.split("_")) + "Activity"


def _nullable(prop):
    prop = copy.deepcopy(prop)
    prop["nullable"] = True
    return prop


def activity_component(kind) -> dict:
    """One kind's activity as the definition document holds it (options nullable: a draft may
    leave them empty; ``validate/`` says what is missing)."""
    options = {name: _nullable(p) for name, p in kind.options.get("properties", {}).items()}
    return {
        "type": "object",
        "title": kind.label or kind.type,
        "description": kind.help_text,
        "properties": {
            "id": {**IDENTIFIER, "description": "The activity's id, unique in the campaign."},
            "type": {"type": "string", "enum": [kind.type]},
            "label": {"type": "string", "description": "Free text shown on the canvas."},
            "position": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "nullable": True,
                "description": "[x, y] on the canvas.",
            },
            **options,
        },
        "required": ["id", "type"],
        "additionalProperties": False,
    }


TRANSITION = {
    "type": "object",
    "properties": {
        "from": {"type": "string"},
        "port": {"type": "string", "default": "out"},
        "to": {"type": "string"},
    },
    "required": ["from", "to"],
    "additionalProperties": False,
}
VARIABLE = {
    "type": "object",
    "properties": {
        "name": IDENTIFIER,
        "type": {"type": "string", "enum": ["string", "integer", "decimal", "boolean", "date"]},
        "default": {"nullable": True},
    },
    "required": ["name", "type"],
}
ERROR_POLICY = {
    "type": "object",
    "properties": {
        "on_error": {"type": "string", "enum": ["stop", "ignore"], "default": "stop"},
        "retries": {"type": "integer", "minimum": 0, "default": 0},
        "retry_delay": {"type": "string", "default": "1min"},
    },
}
SCHEDULE = {
    "type": "object",
    "description": "frequency (asap, once, signal...), timezone, at, valid_from, valid_until.",
    "properties": {
        "frequency": {"type": "string", "default": "asap"},
        "timezone": {"type": "string"},
        "at": {"type": "string"},
    },
    "additionalProperties": True,
}


def definition_component(kinds) -> dict:
    mapping = {kind.type: ref(component_name(kind))["$ref"] for kind in kinds}
    return {
        "type": "object",
        "description": "A campaign definition (design 5.4).",
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "description": {"type": "string"},
            "error_policy": ERROR_POLICY,
            "schedule": SCHEDULE,
            "variables": {"type": "array", "items": VARIABLE},
            "activities": {
                "type": "array",
                "items": {
                    "oneOf": [ref(component_name(kind)) for kind in kinds],
                    "discriminator": {"propertyName": "type", "mapping": mapping},
                },
            },
            "transitions": {"type": "array", "items": TRANSITION},
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def components() -> dict:
    kinds = registry.all()
    found = {component_name(kind): activity_component(kind) for kind in kinds}
    found["CampaignDefinition"] = definition_component(kinds)
    found["LaunchTime"] = {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time", "description": "UTC"},
            "local": {"type": "string", "description": "In the campaign's time zone."},
        },
    }
    return found


def add_components(result, generator, request, public):
    """drf-spectacular postprocessing hook: the registry's components."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    return result
