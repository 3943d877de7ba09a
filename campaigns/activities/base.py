"""The contract of an activity kind (one module per kind, registered in ``registry``).

A kind is a class with:
- ``type``: the definition's ``type`` (design 5.4);
- ``ports``: the output ports (``ports_for(options)`` when they depend on options, as for ``test``);
- ``multi_input``: True only for ``combine`` and ``and_join`` (they wait for all their inputs);
- ``entry``: True when the kind takes no input (``build_audience``, ``read_audience``);
- ``defaults``: every option with its default; export writes them all (export equality);
- ``option_types``: option name -> JSON type(s) accepted (a wrong JSON type is a malformed
  document, refused on save);
- ``validate_options(options, path) -> [{"path", "message"}]``: the completeness checks that
  ``validate/`` reports (a draft with these errors is still saved);
- ``run(ctx) -> {port: Population | None} | Waiting``: computes the step with set-based SQL
  through ``audiences.populations``. A port mapped to None (or left out) carries nothing, which
  skips what depends only on it (design 7). ``Waiting(due_at)`` parks the activity run until
  ``due_at`` (or an earlier wake-up); ``run`` is then called again with the same ``ctx.state``.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Waiting:
    due_at: datetime


@dataclass
class Context:
    run: object
    activity_run: object
    key: str
    options: dict
    inputs: dict  # source activity key -> Population, live inputs only, in transition order
    variables: dict
    test: bool
    now: datetime
    state: dict = field(default_factory=dict)

    @property
    def input(self):
        """The single live input (None for an entry activity)."""
        return next(iter(self.inputs.values()), None)


def error(path, message):
    return {"path": path, "message": message}


JSON_TYPES = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": list,
}


class ActivityKind:
    type = ""
    label = ""
    help_text = ""
    ports = ("out",)
    multi_input = False
    entry = False
    defaults: dict = {}
    option_types: dict = {}

    def ports_for(self, options):
        return tuple(self.ports)

    def with_defaults(self, options):
        """Every option, defaults filled in, in a stable order."""
        merged = {name: _copy(value) for name, value in self.defaults.items()}
        merged.update({k: v for k, v in options.items() if k in self.defaults})
        return merged

    def type_errors(self, options, path):
        """Malformed options: unknown names and wrong JSON types (refused on save)."""
        errors = []
        for name, value in options.items():
            if name not in self.defaults:
                errors.append(error(f"{path}.{name}", f"unknown option for {self.type}"))
                continue
            expected = self.option_types.get(name)
            if value is not None and expected and not _is_json_type(value, expected):
                errors.append(error(f"{path}.{name}", f"must be of JSON type {expected}"))
        return errors

    def validate_options(self, options, path, var_types=None):
        return []

    def run(self, ctx):
        raise NotImplementedError


def _is_json_type(value, expected):
    names = expected if isinstance(expected, tuple) else (expected,)
    for name in names:
        if name == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if name == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if name in JSON_TYPES and isinstance(value, JSON_TYPES[name]):
            return True
    return False


def _copy(value):
    import copy

    return copy.deepcopy(value)
