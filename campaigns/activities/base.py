"""The contract of an activity kind (design 9): one module per kind, listed once in the registry.

A kind is a subclass of ``ActivityKind`` with:
- ``type``: the definition's ``type`` (design 5.4); ``label``, ``help_text`` (words for people)
  and ``group`` (``targeting``, ``flow`` or ``channels``: the canvas palette's sections);
- ``inputs``: ``"none"`` (an entry activity: ``build_audience``), ``"one"`` or ``"many"`` (only
  ``combine`` and ``and_join``: they wait for all their inputs);
- ``ports``: the output ports, or ``ports_for(options)`` when they depend on the options (a
  ``test``'s come from its conditions);
- ``options``: the option schema (``campaigns.activities.options``), declared once. Defaults,
  the malformed-document check, completeness errors, the admin form, the OpenAPI component and
  the ``kinds/`` reference are all derived from it;
- ``validate(options, check) -> [{"path", "message"}]``: what the schema cannot say (cross-option
  rules), with ``check`` (a ``Check``) giving the path, the shapes flowing in, the declared
  variables and the activities upstream (finished before this one runs, with their shapes). Rules, durations and references named in the schema's widget hints are checked
  before it, by ``campaigns.activities.checks``;
- ``outputs(options, inbound) -> {port: Shape | None}``: the shape leaving each port, from the
  shapes flowing in (``{source id: Shape | None}``, None when unknown). The default passes the
  single input's shape to every port; entry kinds and kinds that add or drop columns override
  it. ``validate/`` walks the graph in topological order with these;
- ``run(ctx) -> {port: Population | None} | Waiting``: the step, set-based SQL through
  ``audiences.populations``. A port mapped to None (or left out) carries nothing, which skips
  what depends only on it (design 7). ``Waiting(due_at)`` parks the activity run until
  ``due_at`` (or an earlier wake-up); ``run`` is then called again with the same ``ctx.state``.
"""

from dataclasses import dataclass, field
from datetime import datetime

from audiences.shapes import Shape
from campaigns.activities import options as schema_tools
from config.errors import error  # noqa: F401 - kinds build their errors with it

GROUPS = ("targeting", "flow", "channels")
INPUTS = ("none", "one", "many")


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


@dataclass
class Check:
    """What ``validate`` knows of an activity's place in the graph."""

    path: str  # "activities[3]"
    inbound: dict = field(default_factory=dict)  # source id -> Shape | None (unknown)
    variables: dict = field(default_factory=dict)  # declared variable name -> type
    # the activities upstream (ancestors along transitions): id -> {"type", "ports": {port: Shape}}
    upstream: dict = field(default_factory=dict)

    @property
    def input(self) -> Shape | None:
        """The shape of the single input (None when there is none or it is unknown)."""
        return next(iter(self.inbound.values()), None)

    def at(self, sub: str) -> str:
        return f"{self.path}.{sub}" if sub else self.path


class ActivityKind:
    type = ""
    label = ""
    help_text = ""
    group = "flow"
    inputs = "one"
    ports = ("out",)
    options = schema_tools.options()

    @property
    def entry(self) -> bool:
        return self.inputs == "none"

    @property
    def multi_input(self) -> bool:
        return self.inputs == "many"

    @property
    def defaults(self) -> dict:
        return schema_tools.defaults(self.options)

    def ports_for(self, options: dict) -> tuple:
        return tuple(self.ports)

    def with_defaults(self, options: dict) -> dict:
        """Every option, defaults filled in, in the schema's order."""
        merged = self.defaults
        merged.update({k: v for k, v in options.items() if k in merged})
        return merged

    def type_errors(self, options: dict, path: str) -> list[dict]:
        """Malformed options (unknown names, wrong JSON types): refused on save."""
        return schema_tools.type_errors(self.options, options, path)

    def check(self, options: dict, check: Check) -> list[dict]:
        """Every completeness error of the options: schema, widget hints, then ``validate``."""
        from campaigns.activities import checks

        found = schema_tools.errors(self.options, options, check.path)
        found += checks.widget_errors(self, options, check)
        return found + self.validate(options, check)

    def validate(self, options: dict, check: Check) -> list[dict]:
        return []

    def outputs(self, options: dict, inbound: dict) -> dict:
        shape = next(iter(inbound.values()), None)
        return {port: shape for port in self.ports_for(options)}

    def run(self, ctx: Context):
        raise NotImplementedError

    def reference(self) -> dict:
        """The kind as ``kinds/`` and the canvas palette show it."""
        return {
            "type": self.type,
            "label": self.label or self.type,
            "group": self.group,
            "help": self.help_text,
            "inputs": self.inputs,
            "ports": list(self.ports_for(self.defaults)),
            "ports_from_options": type(self).ports_for is not ActivityKind.ports_for,
            "options": schema_tools.openapi(self.options),
            "defaults": self.defaults,
        }
