"""``test``: sends the inbound population down the port of the first condition that holds, else
``default``; the other ports carry nothing (skipping their branches, design 7).

A condition is a rule (design 5.3 shape) whose ``field`` is ``count`` (the inbound population's
count) or ``vars.NAME`` (a run variable), compared with a ``value`` or a ``var``."""

import datetime
import operator
from decimal import Decimal

from campaigns.activities.base import ActivityKind, error
from campaigns.activities.registry import register

OPERATORS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "between": lambda a, b: b[0] <= a <= b[1],
    "is_null": lambda a, b: a is None,
    "is_not_null": lambda a, b: a is not None,
}
NO_VALUE = {"is_null", "is_not_null"}


def _check(cond, path, variables):
    if not isinstance(cond, dict):
        return [error(path, "a condition is an object")]
    for combinator in ("and", "or"):
        if combinator in cond:
            items = cond[combinator]
            if not isinstance(items, list):
                return [error(f"{path}.{combinator}", "must be a list")]
            return [
                e
                for i, c in enumerate(items)
                for e in _check(c, f"{path}.{combinator}[{i}]", variables)
            ]
    if "not" in cond:
        return _check(cond["not"], f"{path}.not", variables)
    return _leaf_errors(cond, path, variables)


def _leaf_errors(cond, path, variables):
    errors = []
    field = cond.get("field")
    if field != "count" and not (
        isinstance(field, str) and field.startswith("vars.") and field[5:] in variables
    ):
        errors.append(error(f"{path}.field", "must be count or vars.NAME of a declared variable"))
    if cond.get("op") not in OPERATORS:
        errors.append(error(f"{path}.op", f"unknown operator {cond.get('op')!r}"))
    elif cond["op"] not in NO_VALUE and "value" not in cond and "var" not in cond:
        errors.append(error(path, "needs a value or a var"))
    if "var" in cond and cond["var"] not in variables:
        errors.append(error(f"{path}.var", f"no variable named {cond['var']!r}"))
    return errors


def _coerce(left, right):
    """Compare dates given as ISO strings with date variables, decimals with numbers."""
    if isinstance(left, datetime.date) and isinstance(right, str):
        return datetime.date.fromisoformat(right)
    if isinstance(left, Decimal) and isinstance(right, int | float | str):
        return Decimal(str(right))
    return right


def holds(cond, count, variables):
    if "and" in cond:
        return all(holds(c, count, variables) for c in cond["and"])
    if "or" in cond:
        return any(holds(c, count, variables) for c in cond["or"])
    if "not" in cond:
        return not holds(cond["not"], count, variables)
    left = count if cond["field"] == "count" else variables.get(cond["field"][5:])
    right = variables.get(cond["var"]) if "var" in cond else cond.get("value")
    if cond["op"] not in NO_VALUE and (left is None or right is None):
        return False
    if isinstance(right, list):
        right = [_coerce(left, r) for r in right]
    else:
        right = _coerce(left, right)
    return bool(OPERATORS[cond["op"]](left, right))


@register
class Test(ActivityKind):
    type = "test"
    label = "Test"
    help_text = "Chooses one branch from the population's count and the run's variables."
    defaults = {"conditions": []}
    option_types = {"conditions": "array"}

    def ports_for(self, options):
        names = [c.get("name") for c in options.get("conditions") or [] if isinstance(c, dict)]
        return tuple(n for n in names if isinstance(n, str)) + ("default",)

    def validate_options(self, options, path, var_types=None):
        errors, seen = [], set()
        for index, condition in enumerate(options.get("conditions") or []):
            here = f"{path}.conditions[{index}]"
            if not isinstance(condition, dict):
                errors.append(error(here, "a condition is an object"))
                continue
            name = condition.get("name")
            if not isinstance(name, str) or not name or name in seen or name == "default":
                errors.append(error(f"{here}.name", "a unique port name is required"))
            seen.add(name)
            errors += _check(condition.get("when"), f"{here}.when", var_types or {})
        return errors

    def run(self, ctx):
        count = ctx.input.count if ctx.input is not None else 0
        ports = {port: None for port in self.ports_for(ctx.options)}
        for condition in ctx.options["conditions"]:
            if holds(condition["when"], count, ctx.variables):
                ports[condition["name"]] = ctx.input
                return ports
        ports["default"] = ctx.input
        return ports
