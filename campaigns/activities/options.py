"""Option schemas of activity kinds (design 9): each kind declares its options once, here derived
into everything else.

A kind's ``options`` is an OpenAPI 3.0 schema object (``type``, ``properties``, ``items``,
``enum``, ``minimum``/``maximum``, ``minLength``, ``nullable``, ``oneOf``, ``description``,
``title``) with widget hints as extensions:

- ``x-widget``: how the admin form and the canvas side panel edit the value: ``rule`` (a rule
  of design 5.3), ``condition`` (a ``test`` condition), ``duration`` (design 5.0), ``template``
  (a Jinja2 template), ``textarea``, ``json``, or a reference picked by name: ``schema``,
  ``audience``, ``group``, ``user``, ``activity`` (an inbound activity id), ``link``;
- ``x-rule-schema``: for ``rule`` widgets, where the rule applies: the name of the sibling option
  naming the schema (``"schema"``), or ``"inbound"`` for the population flowing in.

Every property has a ``default`` (export equality fills it in). A property that is not
``nullable`` but defaults to null is *required*: a draft may leave it null (saved), ``validate/``
reports it.

Derived here:
- ``defaults(schema)``: every option with its default;
- ``type_errors(schema, options, path)``: what makes a document malformed (refused on save):
  unknown options and values of the wrong JSON type, at their paths, nulls accepted;
- ``errors(schema, options, path)``: everything else the schema says (required, enums, ranges,
  lengths), for ``validate/``;
- ``openapi(schema)``: the component of the definition document (``x-`` hints kept: OpenAPI
  allows extensions);
- ``walk(schema, value, path)``: every (sub-schema, value, path) pair, for the checks that follow
  widget hints (rules, durations).
"""

import copy
from collections.abc import Iterator

from jsonschema import Draft7Validator

TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
}
TYPE_ONLY = ("type", "nullable", "properties", "items", "additionalProperties")


def defaults(schema: dict) -> dict:
    """Every top-level option with its declared default (deep copies)."""
    return {
        name: copy.deepcopy(prop.get("default"))
        for name, prop in schema.get("properties", {}).items()
    }


SKIPPED = ("nullable", "default", "title", "description")


def _convert(key, value, types_only):
    if key == "properties":
        return {k: json_schema(v, types_only=types_only, top=False) for k, v in value.items()}
    if key in ("items", "additionalProperties") and isinstance(value, dict):
        return json_schema(value, types_only=types_only, top=False)
    if key in ("oneOf", "anyOf", "allOf"):
        return [json_schema(v, types_only=types_only, top=False) for v in value]
    return copy.deepcopy(value)


def json_schema(schema: dict, *, types_only: bool = False, top: bool = True) -> dict:
    """The Draft 7 JSON Schema of an option schema: ``nullable`` becomes a ``null`` type.

    ``types_only`` keeps only what decides JSON types (``type``, ``properties``, ``items``,
    ``additionalProperties``): the malformed-document check. At the top level every option may
    then be null (an incomplete draft is still saved)."""
    if not isinstance(schema, dict):
        return schema
    node = {
        key: _convert(key, value, types_only)
        for key, value in schema.items()
        if not key.startswith("x-") and key not in SKIPPED and (not types_only or key in TYPE_ONLY)
    }
    if "type" in node and schema.get("nullable"):
        node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else node["type"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    if types_only and top and "properties" in node:
        node["properties"] = {name: _nullable(prop) for name, prop in node["properties"].items()}
    return node


def _nullable(node):
    if isinstance(node.get("type"), str):
        return {**node, "type": [node["type"], "null"]}
    return node


def _path(prefix, parts):
    path = prefix
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else (f"{path}.{part}" if path else part)
    return path


MESSAGES = {
    "enum": lambda v: "must be one of " + ", ".join(str(x) for x in v if x is not None),
    "additionalProperties": lambda v: "unknown option",
    "required": lambda v: "is required",
    "minimum": lambda v: f"must be at least {v}",
    "maximum": lambda v: f"must be at most {v}",
    "minLength": lambda v: "must not be empty" if v == 1 else f"needs at least {v} characters",
    "maxLength": lambda v: f"must have at most {v} characters",
    "minItems": lambda v: "must not be empty" if v == 1 else f"needs at least {v} items",
    "oneOf": lambda v: "does not match any of the accepted shapes",
    "anyOf": lambda v: "does not match any of the accepted shapes",
}


def _type_message(error):
    if error.instance is None:
        return "a value is required"
    names = error.validator_value
    names = names if isinstance(names, list) else [names]
    return "must be " + " or ".join(TYPE_WORDS.get(n, n) for n in names if n != "null")


def _message(error) -> str:
    if error.validator == "type":
        return _type_message(error)
    render = MESSAGES.get(error.validator)
    return render(error.validator_value) if render else error.message


def _leaves(error):
    """The errors to report for ``error``: for a failed ``oneOf``/``anyOf``, those of the
    alternative of the value's JSON type (when one has it), so the message says what is wrong."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branch = _branch({"oneOf": error.validator_value}, error.instance)
        if branch is not None:
            index = error.validator_value.index(branch)
            for sub in error.context:
                if sub.schema_path and sub.schema_path[0] == index:
                    yield from _leaves(sub)
            return
    yield error


def _errors(validator_schema, options, path):
    found = []
    for top in Draft7Validator(validator_schema).iter_errors(options):
        for error in _leaves(top):
            found += _described(error, path)
    return sorted(found, key=lambda e: e["path"])


def _described(error, path):
    parts = list(error.absolute_path)
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return [
            {"path": _path(path, [*parts, extra]), "message": "unknown option"}
            for extra in sorted(set(error.instance) - known)
        ]
    if error.validator == "required":
        return [
            {"path": _path(path, [*parts, missing]), "message": "is required"}
            for missing in error.validator_value
            if missing not in error.instance
        ]
    return [{"path": _path(path, parts), "message": _message(error)}]


def type_errors(schema: dict, options: dict, path: str) -> list[dict]:
    """Malformed options: unknown names and values of the wrong JSON type (nulls accepted)."""
    strict = {**json_schema(schema, types_only=True), "additionalProperties": False}
    return _errors(strict, options, path)


def errors(schema: dict, options: dict, path: str) -> list[dict]:
    """Everything the schema says of complete options (``validate/``)."""
    return _errors({**json_schema(schema), "additionalProperties": False}, options, path)


def openapi(schema: dict) -> dict:
    """The OpenAPI 3.0 form of the schema (it is authored in it)."""
    return copy.deepcopy(schema)


JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": int | float,
    "boolean": bool,
    "object": dict,
    "array": list,
}


def _branch(schema: dict, value):
    """The ``oneOf`` alternative whose JSON type ``value`` has, or None."""
    for option in schema.get("oneOf", ()):
        kind = JSON_TYPES.get(option.get("type"))
        if kind is not None and isinstance(value, kind) and not isinstance(value, bool):
            return option
        if option.get("type") == "boolean" and isinstance(value, bool):
            return option
    return None


def walk(schema: dict, value, path: str) -> Iterator[tuple[dict, object, str]]:
    """Every (sub-schema, value, path) of ``value`` following ``properties``, ``items`` and the
    ``oneOf`` alternative of the value's JSON type."""
    yield schema, value, path
    branch = _branch(schema, value)
    if branch is not None:
        yield from walk(branch, value, path)
    elif isinstance(value, dict):
        for name, prop in schema.get("properties", {}).items():
            if name in value:
                yield from walk(prop, value[name], _path(path, [name]))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from walk(schema["items"], item, _path(path, [index]))


# --- declaration helpers: kinds write ``options = obj(name=string(...), ...)`` ------------------


def _prop(kind, default, description, **extra):
    prop = {"type": kind, "default": default}
    if description:
        prop["description"] = description
    for key, value in extra.items():
        if value is None:
            continue
        if key in ("widget", "rule_schema"):
            prop["x-widget" if key == "widget" else "x-rule-schema"] = value
        elif key == "nullable":
            if value:
                prop["nullable"] = True
        elif key == "enum":
            prop["enum"] = list(value)
        else:
            prop[{"min_length": "minLength", "max_length": "maxLength"}.get(key, key)] = value
    return prop


def string(default=None, description="", *, nullable=False, enum=None, widget=None, **extra):
    return _prop(
        "string", default, description, nullable=nullable, enum=enum, widget=widget, **extra
    )


def integer(default=None, description="", *, nullable=False, minimum=None, maximum=None):
    return _prop(
        "integer", default, description, nullable=nullable, minimum=minimum, maximum=maximum
    )


def number(default=None, description="", *, nullable=False, minimum=None, maximum=None):
    return _prop(
        "number", default, description, nullable=nullable, minimum=minimum, maximum=maximum
    )


def boolean(default=False, description=""):
    return _prop("boolean", default, description)


def rule(description="", *, of="schema", nullable=False, default=None):
    """A rule of design 5.3 on the schema named by option ``of`` (or ``"inbound"``)."""
    default = {"and": []} if default is None and not nullable else default
    return _prop("object", default, description, nullable=nullable, widget="rule", rule_schema=of)


def array(items, default=None, description="", *, nullable=False, min_items=None, widget=None):
    prop = _prop(
        "array",
        [] if default is None and not nullable else default,
        description,
        nullable=nullable,
        widget=widget,
    )
    prop["items"] = items
    if min_items is not None:
        prop["minItems"] = min_items
    return prop


def obj(default=None, description="", *, nullable=False, widget=None, required=(), **properties):
    """An object of named properties (``additionalProperties: false``)."""
    prop = _prop("object", default, description, nullable=nullable, widget=widget)
    prop["properties"] = properties
    prop["additionalProperties"] = False
    if required:
        prop["required"] = list(required)
    return prop


def options(**properties) -> dict:
    """A kind's option schema: an object of its options."""
    return {"type": "object", "properties": properties, "additionalProperties": False}
