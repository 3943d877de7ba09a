"""Comparing campaign definitions (design 9): the hash approvals are bound to, and the readable
diff approvers read, built on an RFC 6902 JSON Patch.

- ``content(definition) -> dict``: the definition as it is compared: activities keyed by id,
  without ``position`` and ``label`` (tidying the canvas changes nothing here), transitions
  keyed by ``"from.port -> to"``, the other top-level keys (name, schedule, variables...) as
  they are. ``None`` (no definition yet) is the empty campaign.
- ``content_hash(definition) -> str``: sha256 of ``content`` as canonical JSON. A publication
  approval is bound to it; any change of it voids the approval.
- ``patch(before, after) -> [op]``: the RFC 6902 patch from ``content(before)`` to
  ``content(after)``: paths name activities by id (``/activities/mail_vip/subject``), so they
  read without counting list positions.
- ``changes(before, after) -> [Change]``: the patch grouped for people, settings first, then
  activities, then transitions: an activity added or removed (its type and options), one option
  of an activity changed (before and after, whole: a rule is shown entire, not leaf by leaf), a
  transition added or removed, a setting changed. ``Change.paths`` are the patch's own paths.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass

import jsonpatch
import jsonpointer

IGNORED = ("position", "label")
SECTIONS = {"activities": "activity", "transitions": "transition"}


def transition_key(transition: dict) -> str:
    return f"{transition.get('from')}.{transition.get('port', 'out')} -> {transition.get('to')}"


def content(definition: dict | None) -> dict:
    definition = definition or {}
    found = {k: v for k, v in definition.items() if k not in SECTIONS}
    found["activities"] = {
        str(a.get("id")): {k: v for k, v in a.items() if k not in ("id", *IGNORED)}
        for a in definition.get("activities") or []
        if isinstance(a, dict)
    }
    found["transitions"] = {
        transition_key(t): {"from": t.get("from"), "port": t.get("port", "out"), "to": t.get("to")}
        for t in definition.get("transitions") or []
        if isinstance(t, dict)
    }
    return found


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(definition: dict | None) -> str:
    return hashlib.sha256(canonical(content(definition)).encode()).hexdigest()


def patch(before: dict | None, after: dict | None) -> list[dict]:
    return list(jsonpatch.make_patch(content(before), content(after)))


@dataclass
class Change:
    section: str  # setting | activity | transition
    key: str  # the setting's name, the activity's id, the transition's key
    change: str  # added | removed | changed
    field: str | None = None  # the activity's option (or type) that changed
    before: object = None
    after: object = None
    paths: list = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "section": self.section,
            "key": self.key,
            "change": self.change,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "paths": self.paths,
        }


def _parts(path):
    return jsonpointer.JsonPointer(path).parts


def _whole(op):
    """``[(section, key, change, path)]`` of an op on a whole activity or transition (a move,
    which jsonpatch makes of a renamed activity, is a removal and an addition)."""
    section, key = _parts(op["path"])[:2]
    if op["op"] == "move":
        source = _parts(op["from"])
        return [
            (source[0], source[1], "removed", op["from"]),
            (section, key, "added", op["path"]),
        ]
    change = {"remove": "removed", "add": "added", "copy": "added"}.get(op["op"], "changed")
    return [(section, key, change, op["path"])]


class _Grouper:
    def __init__(self, before, after):
        self.old, self.new = content(before), content(after)
        self.found = {}

    def _values(self, section, key, name):
        if section not in SECTIONS:
            return self.old.get(key), self.new.get(key)
        old, new = self.old[section].get(key), self.new[section].get(key)
        if name is None:
            return old, new
        return (old or {}).get(name), (new or {}).get(name)

    def add(self, section, key, change, name=None, path=""):
        where = (section, key, name)
        if where in self.found:
            self.found[where].paths.append(path)
            return
        before, after = self._values(section, key, name)
        before = None if change == "added" else before
        after = None if change == "removed" else after
        label = SECTIONS.get(section, "setting")
        self.found[where] = Change(label, key, change, name, before, after, [path])

    def take(self, op):
        parts = _parts(op["path"])
        if parts and parts[0] in SECTIONS and len(parts) == 2:
            for section, key, change, path in _whole(op):
                self.add(section, key, change, path=path)
        elif parts and parts[0] in SECTIONS and len(parts) > 2:
            self.add(parts[0], parts[1], "changed", parts[2], op["path"])
        elif parts:
            self.add("setting", parts[0], self._setting_change(parts[0]), path=op["path"])

    def _setting_change(self, key):
        if key not in self.old:
            return "added"
        return "removed" if key not in self.new else "changed"


ORDER = {"setting": 0, "activity": 1, "transition": 2}


def _places(before, after):
    """Where each setting, activity and transition comes in the definitions (after first)."""
    places = {}
    for definition in (after or {}, before or {}):
        keys = [
            *(("setting", k) for k in definition if k not in SECTIONS),
            *(("activity", str(a.get("id"))) for a in definition.get("activities") or []),
            *(("transition", transition_key(t)) for t in definition.get("transitions") or []),
        ]
        for key in keys:
            places.setdefault(key, len(places))
    return places


def changes(before: dict | None, after: dict | None) -> list[Change]:
    grouper = _Grouper(before, after)
    for op in patch(before, after):
        grouper.take(op)
    places = _places(before, after)
    return sorted(
        grouper.found.values(),
        key=lambda c: (ORDER[c.section], places.get((c.section, c.key), len(places))),
    )
