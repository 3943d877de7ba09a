"""Campaign variables: declared ``{"name", "type", "default"}`` (types string, integer, decimal,
boolean, date); values passed on test runs and triggers are type-checked against them.

``check_declarations(variables, path) -> errors`` and ``resolve(declared, given, path) -> dict``
(raises ValidationFailed). Resolved values stay JSON (decimals as strings, dates ISO) so that they
can be stored on the run; ``typed(declared, values)`` gives Python values for conditions."""

import datetime
from decimal import Decimal, InvalidOperation

from config.errors import ValidationFailed

TYPES = ("string", "integer", "decimal", "boolean", "date")


def _check(type_name, value):
    """The JSON form of ``value`` as ``type_name``; raises ValueError."""
    if type_name == "string" and isinstance(value, str):
        return value
    if type_name == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if type_name == "boolean" and isinstance(value, bool):
        return value
    if (
        type_name == "decimal"
        and isinstance(value, int | float | str)
        and not isinstance(value, bool)
    ):
        try:
            return str(Decimal(str(value)))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal") from None
    if type_name == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value).isoformat()
    raise ValueError(f"expected a {type_name}, got {value!r}")


def check_declarations(variables, path="variables"):
    errors, seen = [], set()
    for index, item in enumerate(variables):
        here = f"{path}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            errors.append({"path": here, "message": "a variable is {name, type, default}"})
            continue
        if item["name"] in seen:
            errors.append({"path": f"{here}.name", "message": "duplicate variable name"})
        seen.add(item["name"])
        if item.get("type") not in TYPES:
            errors.append({"path": f"{here}.type", "message": f"must be one of {', '.join(TYPES)}"})
            continue
        if item.get("default") is not None:
            try:
                _check(item["type"], item["default"])
            except ValueError as exc:
                errors.append({"path": f"{here}.default", "message": str(exc)})
    return errors


def resolve(declared, given, path="variables"):
    """Defaults overridden by ``given``; every value type-checked; unknown names refused."""
    given = given or {}
    if not isinstance(given, dict):
        raise ValidationFailed([{"path": path, "message": "variables is an object"}])
    types = {v["name"]: v["type"] for v in declared}
    errors = [
        {"path": f"{path}.{name}", "message": "no such variable"}
        for name in given
        if name not in types
    ]
    values = {}
    for item in declared:
        name = item["name"]
        value = given.get(name, item.get("default"))
        if value is None:
            values[name] = None
            continue
        try:
            values[name] = _check(item["type"], value)
        except ValueError as exc:
            errors.append({"path": f"{path}.{name}", "message": str(exc)})
    if errors:
        raise ValidationFailed(errors)
    return values


def typed(declared, values):
    """Python values (Decimal, date) for comparisons."""
    out = dict(values)
    for item in declared:
        value = out.get(item["name"])
        if value is None:
            continue
        if item["type"] == "decimal":
            out[item["name"]] = Decimal(value)
        elif item["type"] == "date":
            out[item["name"]] = datetime.date.fromisoformat(value)
    return out
