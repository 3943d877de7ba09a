"""The OpenAPI components of the campaign documents (registered with ``config.api.openapi``).

Derived, never written per kind: each kind's option schema (design 9) becomes one component,
``<Type>Activity`` (for example ``BuildAudienceActivity``), and ``CampaignDefinition`` (design
5.4) lists them in ``activities`` as a ``oneOf`` discriminated by ``type``; string lengths come
from the models' columns. A component says what ``POST``/``PUT campaigns/`` accept and what
``definition/`` exports: JSON types (a draft may be incomplete, so every option may be null);
what only ``validate/`` checks (choices, ranges, required values) is said in the descriptions.

The answers: ``Campaign``, ``Run``, ``Task``, ``Version``, ``VersionDetail``, ``Validation``,
``Kinds`` and ``TransitionRecords``.
"""

import copy

from campaigns import variables
from campaigns.activities import registry
from campaigns.models import (
    Activity,
    ActivityRunStatus,
    Campaign,
    CampaignStatus,
    HumanTaskStatus,
    RunStatus,
    Transition,
)
from config.api.openapi import ERROR_LIST, Page, component, components_from, ref
from config.inputs import max_length

ANY = {}  # any JSON value
OBJECT = {"type": "object", "additionalProperties": True}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {**DATETIME, "nullable": True}
TYPE_ONLY = ("type", "nullable", "properties", "items", "additionalProperties")
ANNOTATIONS = ("title", "description", "default")
CONSTRAINT_WORDS = {
    "enum": lambda v: "one of " + ", ".join(str(x) for x in v if x is not None),
    "minimum": lambda v: f"at least {v}",
    "maximum": lambda v: f"at most {v}",
    "minLength": lambda v: f"at least {v} characters",
    "maxLength": lambda v: f"at most {v} characters",
    "minItems": lambda v: f"at least {v} items",
    "required": lambda v: "needs " + ", ".join(v),
}


def component_name(kind) -> str:
    return "".join(part.capitalize() for part in kind.type.split("_")) + "Activity"


def _words(prop):
    said = [render(prop[key]) for key, render in CONSTRAINT_WORDS.items() if key in prop]
    text = prop.get("description", "")
    if said:
        text = f"{text} ({'; '.join(said)}: checked by validate/)".strip()
    return text


def saved_form(prop: dict) -> dict:
    """An option schema as a draft is saved: JSON types, with its constraints in words."""
    if not isinstance(prop, dict):
        return prop
    out = {k: copy.deepcopy(v) for k, v in prop.items() if k in ANNOTATIONS or k.startswith("x-")}
    out.update({k: prop[k] for k in ("type", "nullable") if k in prop})
    if _words(prop):
        out["description"] = _words(prop)
    if isinstance(prop.get("properties"), dict):
        out["properties"] = {k: saved_form(v) for k, v in prop["properties"].items()}
    for key in ("items", "additionalProperties"):
        if key in prop:
            out[key] = saved_form(prop[key]) if isinstance(prop[key], dict) else prop[key]
    return out


def activity_component(kind) -> dict:
    """One kind's activity as the definition document holds it (module docstring)."""
    options = {
        name: {**saved_form(p), "nullable": True}
        for name, p in kind.options.get("properties", {}).items()
    }
    return {
        "type": "object",
        "title": kind.label or kind.type,
        "description": kind.help_text,
        "properties": {
            "id": {
                "type": "string",
                "minLength": 1,
                "maxLength": max_length(Activity, "key"),
                "description": "The activity's id, unique in the campaign (an identifier).",
            },
            "type": {"type": "string", "enum": [kind.type]},
            "label": {
                "type": "string",
                "maxLength": max_length(Activity, "label"),
                "description": "Free text shown on the canvas.",
            },
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
        "from": {"type": "string", "description": "The source activity's id."},
        "port": {"type": "string", "default": "out", "maxLength": max_length(Transition, "port")},
        "to": {"type": "string", "description": "The target activity's id."},
    },
    "required": ["from", "to"],
    "additionalProperties": False,
}
VARIABLE = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "An identifier, unique in the campaign."},
        "type": {"type": "string", "enum": list(variables.TYPES)},
        "default": {"nullable": True, "description": "A value of the variable's type."},
    },
    "required": ["name", "type"],
}
ERROR_POLICY = {
    "type": "object",
    "properties": {
        "on_error": {"type": "string", "enum": ["stop", "ignore"], "default": "stop"},
        "retries": {"type": "integer", "minimum": 0, "default": 0},
        "retry_delay": {"type": "string", "default": "1min", "description": "A duration."},
    },
    "additionalProperties": False,
}
SCHEDULE_TEXTS = ("frequency", "timezone", "at", "valid_from", "valid_until")
SCHEDULE = {
    "type": "object",
    "description": "frequency (asap, once, signal), timezone (e.g. Europe/Paris), at (ISO 8601, "
    "for once), valid_from, valid_until; checked by validate/ and publish/.",
    "properties": {name: {"type": "string"} for name in SCHEDULE_TEXTS},
    "additionalProperties": True,
}


def definition_component(kinds) -> dict:
    mapping = {kind.type: ref(component_name(kind))["$ref"] for kind in kinds}
    return {
        "type": "object",
        "description": "A campaign definition (design 5.4).",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": max_length(Campaign, "name")},
            "description": {"type": "string"},
            "frequency_cap": {
                "type": "object",
                "nullable": True,
                "description": "At most `messages` marketing messages per profile in `days` "
                "days (null: the FREQUENCY_CAP_* settings).",
                "properties": {
                    "messages": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "days": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
                "required": ["messages", "days"],
                "additionalProperties": False,
            },
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


def definition_components() -> dict:
    kinds = registry.all()
    found = {component_name(kind): activity_component(kind) for kind in kinds}
    found["CampaignDefinition"] = definition_component(kinds)
    return found


components_from(definition_components)
DEFINITION = ref("CampaignDefinition")

LAUNCH_TIMES = {
    "type": "array",
    "description": "The next five launches (design 11).",
    "items": component(
        "LaunchTime",
        {
            "type": "object",
            "properties": {
                "at": {"type": "string", "format": "date-time", "description": "UTC"},
                "local": {"type": "string", "description": "In the campaign's time zone."},
            },
        },
    ),
}
LAUNCH = component(
    "Launch",
    {
        "type": "object",
        "properties": {
            "scheduled_for": {"type": "string", "format": "date-time"},
            "local": {"type": "string", "description": "In the campaign's time zone."},
            "status": {"type": "string", "enum": ["launched", "skipped"]},
            "reason": {"type": "string", "description": "Why it was skipped."},
            "missed": {"type": "integer", "description": "Earlier times it caught up for."},
            "run": {"type": "integer", "nullable": True},
        },
    },
)
CAMPAIGN = component(
    "Campaign",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "status": {"type": "string", "enum": list(CampaignStatus.values)},
            "schedule": OBJECT,
            "next_launch_at": NULLABLE_DATETIME,
            "version": {"type": "integer", "nullable": True, "description": "Latest published."},
            "revision_open": {"type": "boolean"},
            "status_note": {
                "type": "string",
                "description": "Why it is in its state: waiting for whom, a rejection, a voided "
                "approval.",
            },
            "changed_by": {
                "type": "string",
                "nullable": True,
                "description": "Who last changed the definition (they cannot approve it).",
            },
            "approval_tasks": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The open publication approval tasks (tasks/{id}/).",
            },
            "actions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The lifecycle actions the requesting user may take now.",
            },
            "next_launches": LAUNCH_TIMES,
            "created_at": DATETIME,
            "updated_at": DATETIME,
        },
        "required": ["id", "name", "status", "actions"],
    },
)
VARIABLES_BODY = component(
    "RunVariables",
    {
        "type": "object",
        "properties": {
            "variables": {
                "type": "object",
                "additionalProperties": True,
                "description": "Values of the campaign's declared variables.",
            }
        },
        "additionalProperties": False,
    },
)
ACTIVITY_RUN = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "string", "enum": list(ActivityRunStatus.values)},
        "attempt": {"type": "integer"},
        "started_at": NULLABLE_DATETIME,
        "finished_at": NULLABLE_DATETIME,
        "error": {"type": "string"},
        "note": {"type": "string", "description": "What a test run did instead (skipped...)."},
        "test_effect": {
            "type": "string",
            "description": "In a test run: auto_approved (an approval), wait_skipped (a wait), or ''.",
        },
        "counts": {
            "type": "object",
            "nullable": True,
            "additionalProperties": {"type": "integer", "nullable": True},
            "description": "Records per port; null for a port that carried nothing.",
        },
    },
}
TRANSITION_COUNT = {
    "type": "object",
    "properties": {
        "from": {"type": "string"},
        "port": {"type": "string"},
        "to": {"type": "string"},
        "count": {"type": "integer", "nullable": True},
        "state": {"type": "string", "enum": ["pending", "carried", "nothing"]},
    },
}
RUN = component(
    "Run",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "campaign": {"type": "integer"},
            "version": {"type": "integer", "nullable": True, "description": "Null: a test run."},
            "status": {"type": "string", "enum": list(RunStatus.values)},
            "test": {"type": "boolean"},
            "variables": OBJECT,
            "created_at": DATETIME,
            "started_at": NULLABLE_DATETIME,
            "finished_at": NULLABLE_DATETIME,
            "error": {"type": "string"},
            "activities": {"type": "object", "additionalProperties": ACTIVITY_RUN},
            "transitions": {"type": "array", "items": TRANSITION_COUNT},
        },
        "required": ["id", "campaign", "status", "test", "activities", "transitions"],
    },
)
TASK = component(
    "Task",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "status": {"type": "string", "enum": list(HumanTaskStatus.values)},
            "title": {"type": "string"},
            "message": {"type": "string"},
            "group": {"type": "string", "nullable": True},
            "assignee": {"type": "integer", "nullable": True},
            "decision": {"type": "string"},
            "comment": {"type": "string"},
            "due_at": NULLABLE_DATETIME,
            "run": {"type": "integer", "nullable": True},
            "activity": {"type": "string", "nullable": True},
        },
        "required": ["id", "kind", "status"],
    },
)
DECISION = component(
    "Decision",
    {
        "type": "object",
        "properties": {"comment": {"type": "string", "description": "Why, for the audit."}},
        "additionalProperties": False,
    },
)
VERSION = component(
    "Version",
    {
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "created_at": DATETIME,
            "created_by": {"type": "string", "nullable": True},
            "approved": {"type": "boolean", "description": "Published through an approval."},
        },
        "required": ["number", "created_at"],
    },
)
VERSION_DETAIL = component(
    "VersionDetail",
    {
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "definition": DEFINITION,
            "against": {"type": "integer", "nullable": True},
            "diff": {
                "type": "array",
                "items": OBJECT,
                "description": "RFC 6902 JSON Patch from the definition of `against` (default: "
                "the version before, or {}) to this one.",
            },
            "changes": {
                "type": "array",
                "items": OBJECT,
                "description": "The same, for people: activities, options, transitions and "
                "settings added, removed or changed (position and label left out).",
            },
        },
        "required": ["number", "definition", "diff"],
    },
)
VALIDATION = component(
    "Validation",
    {
        "type": "object",
        "properties": {
            "valid": {"type": "boolean"},
            "errors": ERROR_LIST,
        },
        "required": ["valid", "errors"],
    },
)
KINDS = component(
    "Kinds",
    {
        "type": "object",
        "properties": {
            "kinds": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "label": {"type": "string"},
                        "group": {"type": "string", "enum": ["targeting", "flow", "channels"]},
                        "help": {"type": "string"},
                        "inputs": {"type": "string", "enum": ["none", "one", "many"]},
                        "ports": {"type": "array", "items": {"type": "string"}},
                        "ports_from_options": {"type": "boolean"},
                        "options": {**OBJECT, "description": "The option schema (OpenAPI)."},
                        "defaults": OBJECT,
                    },
                },
            }
        },
        "required": ["kinds"],
    },
)
TRANSITION_RECORDS = Page(
    {**OBJECT, "description": "key, the columns the activities added, attribute paths."},
    columns={"type": "array", "items": {"type": "string"}},
    page={"type": "integer"},
    pages={"type": "integer"},
)
