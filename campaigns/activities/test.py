"""``test``: sends the inbound population down the port of the first condition that holds, else
``default``; the other ports carry nothing (skipping their branches, design 7).

A condition is a rule of the design 5.3 shape (``and``, ``or``, ``not``, comparisons) whose
``field`` is ``count`` (the inbound population's count, an integer) or ``vars.NAME`` (a declared
run variable, of its declared type), compared with a ``value`` or a ``var``. The operators are the
rules module's own table (``audiences.rules.OPERATORS``), evaluated with their ``holds``
predicate; a comparison with a null value is false, as in rules. Conditions nest at most
``rules.MAX_DEPTH`` levels, as rules do (design 5.0): deeper is an error at its path.
"""

from audiences import rules
from audiences.models import AttributeType
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, error

CONDITION = {
    "type": "object",
    "properties": {
        "name": o.string(description="The port this condition sends the population to."),
        "when": {
            "type": "object",
            "description": "A rule on count or vars.NAME.",
            "x-widget": "condition",
        },
    },
    "required": ["name", "when"],
    "additionalProperties": False,
}


def _side_type(field, variables):
    if field == "count":
        return AttributeType.INTEGER
    if isinstance(field, str) and field.startswith("vars.") and field[5:] in variables:
        return variables[field[5:]]
    return None


def _combinator_errors(cond, path, variables, depth):
    for combinator in ("and", "or"):
        if combinator in cond:
            items = cond[combinator]
            if not isinstance(items, list):
                return [error(f"{path}.{combinator}", "must be a list")]
            return [
                e
                for i, c in enumerate(items)
                for e in condition_errors(c, f"{path}.{combinator}[{i}]", variables, depth + 1)
            ]
    return None


def condition_errors(cond, path, variables, depth=1):
    """The errors of one condition (``depth`` levels deep); ``variables``: name -> type."""
    if depth > rules.MAX_DEPTH:
        return [error(path, f"conditions nest at most {rules.MAX_DEPTH} levels")]
    if not isinstance(cond, dict):
        return [error(path, "a condition is an object")]
    nested = _combinator_errors(cond, path, variables, depth)
    if nested is not None:
        return nested
    if "not" in cond:
        return condition_errors(cond["not"], f"{path}.not", variables, depth + 1)
    kind = _side_type(cond.get("field"), variables)
    if kind is None:
        return [error(f"{path}.field", "must be count or vars.NAME of a declared variable")]
    spec = rules.OPERATORS.get(cond.get("op"))
    if spec is None or spec.holds is None:
        return [error(f"{path}.op", f"unknown operator {cond.get('op')!r}")]
    if kind not in spec.types:
        return [error(f"{path}.op", f"{cond['op']} does not apply to a {kind} value")]
    return _operand_errors(cond, path, kind, spec, variables)


def _operand_errors(cond, path, kind, spec, variables):
    if spec.shape == "none":
        return []
    if "var" in cond:
        if cond["var"] not in variables:
            return [error(f"{path}.var", f"no variable named {cond['var']!r}")]
        return []
    if "value" not in cond:
        return [error(path, "needs a value or a var")]
    try:
        _typed(cond["value"], kind, spec)
    except (TypeError, ValueError, ArithmeticError):
        return [error(f"{path}.value", f"expected a {kind} value, got {cond['value']!r}")]
    return []


def _typed(value, kind, spec):
    coerce = rules.COERCE[kind]
    if spec.shape in ("list", "pair"):
        if not isinstance(value, list) or (spec.shape == "pair" and len(value) != 2):
            raise ValueError(value)
        return [coerce(v) for v in value]
    return coerce(value)


def holds(cond, count, variables, types):
    """Whether ``cond`` holds for ``count`` and the (typed) ``variables`` of declared ``types``."""
    if "and" in cond:
        return all(holds(c, count, variables, types) for c in cond["and"])
    if "or" in cond:
        return any(holds(c, count, variables, types) for c in cond["or"])
    if "not" in cond:
        return not holds(cond["not"], count, variables, types)
    spec = rules.OPERATORS[cond["op"]]
    kind = _side_type(cond["field"], types)
    left = count if cond["field"] == "count" else variables.get(cond["field"][5:])
    if spec.shape == "none":
        return bool(spec.holds(left, None))
    right = variables.get(cond["var"]) if "var" in cond else cond.get("value")
    if left is None or right is None:
        return False
    if "var" not in cond:
        right = _typed(right, kind, spec)
    return bool(spec.holds(left, right))


class Test(ActivityKind):
    type = "test"
    label = "Test"
    help_text = "Chooses one branch from the population's count and the run's variables."
    options = o.options(
        conditions=o.array(
            CONDITION, [], "Conditions tried in order; the first that holds takes its port."
        ),
    )

    def ports_for(self, options):
        names = [c.get("name") for c in options.get("conditions") or [] if isinstance(c, dict)]
        return tuple(n for n in names if isinstance(n, str)) + ("default",)

    def validate(self, options, check):
        errors, seen = [], set()
        for index, condition in enumerate(options.get("conditions") or []):
            here = check.at(f"conditions[{index}]")
            if not isinstance(condition, dict):
                continue
            name = condition.get("name")
            if not isinstance(name, str) or not name or name in seen or name == "default":
                errors.append(error(f"{here}.name", "a unique port name is required"))
            seen.add(name)
            errors += condition_errors(condition.get("when"), f"{here}.when", check.variables)
        return errors

    def run(self, ctx):
        count = ctx.input.count if ctx.input is not None else 0
        types = {v["name"]: v["type"] for v in ctx.run.version.definition["variables"]}
        ports = {port: None for port in self.ports_for(ctx.options)}
        for condition in ctx.options["conditions"]:
            if holds(condition["when"], count, ctx.variables, types):
                ports[condition["name"]] = ctx.input
                return ports
        ports["default"] = ctx.input
        return ports
