"""Checks that follow the widget hints of option schemas (``campaigns.activities.options``), so a
kind that declares a rule, a duration or a reference gets it validated without code of its own.

``widget_errors(kind, options, check)`` walks the options with the kind's schema and checks every
non-null value whose schema has an ``x-widget`` listed in ``CHECKERS``: ``rule`` (against the
schema its ``x-rule-schema`` names, with the inbound shape's columns as ``target.ALIAS``),
``duration``, and the references ``schema``, ``audience``, ``group``, ``user`` (by name: design
5.4 keeps database ids out of definitions), ``link`` (a link path from the inbound schema),
``template`` (Jinja2 syntax and names, with line numbers), ``column`` (a column of the inbound
shape: ``target.ALIAS``, an added column or an attribute
path), ``attribute`` (an attribute of the schema named by the option its ``x-schema-option``
gives, default ``schema``), ``identifier`` (a name of design 5.0) and ``file`` (a campaign file
or a path under ``CAMPAIGN_FILES_DIR``). A new widget is one entry in ``CHECKERS``.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audiences import durations, rules
from audiences.identifiers import identifier_error
from audiences.models import SavedAudience, Schema
from campaigns.activities import options as schema_tools
from config.errors import ValidationFailed


def _rule_schema(node, options, check):
    """The schema name a rule applies to, or None when it is not known (reported elsewhere)."""
    source = node.get("x-rule-schema", "schema")
    if source == "inbound":
        return check.input.schema if check.input else None
    name = options.get(source)
    return name if isinstance(name, str) and _exists(Schema, name=name) else None


def _exists(model, **lookup):
    return model.objects.filter(**lookup).exists()


def _rule(node, value, path, options, check):
    schema = _rule_schema(node, options, check)
    if schema is None:
        return []
    targets = check.input.columns if check.input and check.input.schema == schema else None
    return rules.check(
        schema=schema, where=value, var_types=check.variables, targets=targets, path=path
    )


def _duration(node, value, path, options, check):
    try:
        durations.parse(value, path=path)
    except durations.DurationError as exc:
        return [{"path": exc.path, "message": exc.message}]
    return []


def _reference(model, field, noun):
    def checker(node, value, path, options, check):
        if isinstance(value, str) and _exists(model, **{field: value}):
            return []
        return [{"path": path, "message": f"no {noun} named {value!r}"}]

    return checker


def _template(node, value, path, options, check):
    from campaigns.activities.channel import template_context
    from channels import personalize

    return personalize.check(value, path=path, **template_context(check))


def _user(node, value, path, options, check):
    return _reference(get_user_model(), "username", "user")(node, value, path, options, check)


def _schema_input(check):
    shape = check.input
    return None if shape is None or shape.is_file else shape.schema


def _link(node, value, path, options, check):
    from audiences.population_ops import dimension

    schema = _schema_input(check)
    if schema is None:
        return []
    try:
        dimension.hops(schema, value, path)
    except ValidationFailed as exc:
        return exc.errors
    return []


def _column(node, value, path, options, check):
    from audiences.population_ops import paths

    return paths.reference_errors(check.input, value, path) if check.input else []


def _attribute(node, value, path, options, check):
    name = options.get(node.get("x-schema-option", "schema"))
    schema = Schema.objects.filter(name=name).first() if isinstance(name, str) else None
    if schema is None or schema.attributes.filter(name=value).exists():
        return []
    return [{"path": path, "message": f"{schema.name} has no attribute {value!r}"}]


def _identifier(node, value, path, options, check):
    problem = identifier_error(value)
    return [{"path": path, "message": problem}] if problem else []


def _file(node, value, path, options, check):
    from campaigns import files

    problem = files.reference_error(value)
    return [{"path": path, "message": problem}] if problem else []


CHECKERS = {
    "rule": _rule,
    "duration": _duration,
    "schema": _reference(Schema, "name", "schema"),
    "audience": _reference(SavedAudience, "name", "saved audience"),
    "group": _reference(Group, "name", "group"),
    "user": _user,
    "link": _link,
    "column": _column,
    "attribute": _attribute,
    "identifier": _identifier,
    "file": _file,
    "template": _template,
}


def widget_errors(kind, options: dict, check) -> list[dict]:
    found = []
    for node, value, path in schema_tools.walk(kind.options, options, check.path):
        checker = CHECKERS.get(node.get("x-widget"))
        if checker is not None and value is not None:
            found += checker(node, value, path, options, check)
    return found
