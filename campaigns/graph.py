"""The graph of a normalized definition, and its validation (design 5.4, 7, 9).

- ``Graph(definition)`` indexes activities and transitions; ``order()`` is a topological order
  (activities caught in a cycle come last).
- ``shapes(definition) -> {(activity id, port): Shape | None}``: what leaves each port, computed
  by walking the graph in topological order with each kind's ``outputs`` (None: unknown).
- ``validate(definition) -> errors``: every graph and option error with paths. Each activity is
  checked by its kind with the shapes flowing into it, so a rule naming ``target.ALIAS`` or a
  field of the wrong schema is an error at its path before anything runs.
"""

from campaigns.activities import registry
from campaigns.activities.base import Check


class Graph:
    def __init__(self, definition):
        self.definition = definition
        self.activities = {a["id"]: a for a in definition["activities"]}
        self.index = {a["id"]: i for i, a in enumerate(definition["activities"])}
        self.inbound = {key: [] for key in self.activities}
        self.outbound = {key: [] for key in self.activities}
        for t in definition["transitions"]:
            self.inbound[t["to"]].append(t)
            self.outbound[t["from"]].append(t)

    def kind(self, key):
        return registry.get(self.activities[key]["type"])

    def options(self, key):
        item = self.activities[key]
        return {k: v for k, v in item.items() if k not in ("id", "type", "label", "position")}

    def path(self, key):
        return f"activities[{self.index[key]}]"

    def order(self):
        """Activity ids in topological order (Kahn); those in a cycle are appended last."""
        waiting = {key: len({t["from"] for t in self.inbound[key]}) for key in self.activities}
        ready = [key for key, n in waiting.items() if n == 0]
        done = []
        while ready:
            key = ready.pop(0)
            done.append(key)
            for target in dict.fromkeys(t["to"] for t in self.outbound[key]):
                waiting[target] -= 1
                if waiting[target] == 0:
                    ready.append(target)
        return done + [key for key in self.activities if key not in done]

    def inbound_shapes(self, key, shapes):
        """``{source id: Shape | None}`` flowing into ``key``, in transition order."""
        return {t["from"]: shapes.get((t["from"], t["port"])) for t in self.inbound[key]}


def _input_errors(graph):
    errors = []
    for key in graph.activities:
        kind, count, path = graph.kind(key), len(graph.inbound[key]), graph.path(key)
        if kind.entry and count:
            errors.append({"path": path, "message": f"{kind.type} takes no input"})
        elif not kind.entry and count == 0:
            errors.append({"path": path, "message": "missing input"})
        elif not kind.multi_input and count > 1:
            errors.append(
                {"path": path, "message": f"{kind.type} takes one input; merge with combine"}
            )
        primary = graph.activities[key].get("primary") if kind.multi_input else None
        sources = {t["from"] for t in graph.inbound[key]}
        if primary and primary not in sources:
            errors.append({"path": f"{path}.primary", "message": f"{primary!r} is not an input"})
    return errors


def _cycle_errors(graph):
    state, errors = {}, []

    def visit(key):
        state[key] = "open"
        for t in graph.outbound[key]:
            if state.get(t["to"]) == "open":
                errors.append({"path": graph.path(t["to"]), "message": "part of a cycle"})
            elif t["to"] not in state:
                visit(t["to"])
        state[key] = "done"

    for key in graph.activities:
        if key not in state:
            visit(key)
    return errors


def _reachability_errors(graph):
    reached = set()
    todo = [k for k in graph.activities if graph.kind(k).entry]
    while todo:
        key = todo.pop()
        if key not in reached:
            reached.add(key)
            todo += [t["to"] for t in graph.outbound[key]]
    return [
        {"path": graph.path(k), "message": "unreachable from any entry activity"}
        for k in graph.activities
        if k not in reached and graph.inbound[k]
    ]


def _schedule_errors(schedule):
    from campaigns import schedules

    return schedules.errors(schedule)


def _upstream(graph, key, ancestors, shapes):
    """``{id: {"type", "ports": {port: Shape}}}`` of the ancestors of ``key`` (remembered)."""
    found = set()
    for t in graph.inbound[key]:
        found |= {t["from"], *ancestors.get(t["from"], ())}
    ancestors[key] = found
    return {
        a: {
            "type": graph.activities[a]["type"],
            "ports": {p: s for (k, p), s in shapes.items() if k == a},
        }
        for a in sorted(found)
    }


def _walk(graph, variables):
    """(errors, shapes) of every activity, checked in topological order."""
    errors, shapes, ancestors = [], {}, {}
    for key in graph.order():
        kind, options = graph.kind(key), graph.options(key)
        inbound = graph.inbound_shapes(key, shapes)
        upstream = _upstream(graph, key, ancestors, shapes)
        errors += kind.check(options, Check(graph.path(key), inbound, variables, upstream))
        for port, shape in kind.outputs(options, inbound).items():
            shapes[(key, port)] = shape
    errors.sort(key=lambda e: graph.index.get(_activity_of(e["path"], graph), -1))
    return errors, shapes


def _activity_of(path, graph):
    for key, index in graph.index.items():
        prefix = f"activities[{index}]"
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return key
    return None


def shapes(definition):
    """``{(activity id, port): Shape | None}`` of a well-formed definition."""
    graph = Graph(definition)
    return _walk(graph, _variables(definition))[1]


def _variables(definition):
    return {v["name"]: v["type"] for v in definition["variables"]}


def validate(definition):
    graph = Graph(definition)
    errors = []
    if not graph.activities:
        errors.append({"path": "activities", "message": "a campaign needs activities"})
    errors += _walk(graph, _variables(definition))[0]
    errors += _input_errors(graph) + _cycle_errors(graph) + _reachability_errors(graph)
    return errors + _schedule_errors(definition["schedule"])
