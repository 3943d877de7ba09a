"""The graph of a normalized definition, and its validation (design 5.4, 7).

``Graph(definition)`` indexes activities and transitions; ``validate(definition) -> errors``
reports every graph and option error with paths."""

from campaigns.activities import registry


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
        return {k: v for k, v in item.items() if k not in ("id", "type", "position")}

    def path(self, key):
        return f"activities[{self.index[key]}]"


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
    frequency = schedule.get("frequency")
    if frequency not in ("asap", "once", "signal"):
        return [{"path": "schedule.frequency", "message": "must be asap, once or signal"}]
    if frequency == "once" and not isinstance(schedule.get("at"), str):
        return [{"path": "schedule.at", "message": "once needs an ISO date-time"}]
    return []


def validate(definition):
    graph = Graph(definition)
    var_types = {v["name"]: v["type"] for v in definition["variables"]}
    errors = []
    if not graph.activities:
        errors.append({"path": "activities", "message": "a campaign needs activities"})
    for key in graph.activities:
        errors += graph.kind(key).validate_options(graph.options(key), graph.path(key), var_types)
    errors += _input_errors(graph) + _cycle_errors(graph) + _reachability_errors(graph)
    return errors + _schedule_errors(definition["schedule"])
