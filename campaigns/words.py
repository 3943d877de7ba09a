"""Error paths of a campaign definition in words (design 5.0 paths for people): the admin names
activities by their label or key, never ``activities[0]``.

- ``activity_name(activity) -> str``: ``“Spring mail” (mail_vip)``, or the kind's label and key
  (``Email “mail_vip”``) when the activity has no label;
- ``where(path, document, *, within_activity=False) -> str``: the place a path names, in words:
  ``activities[2].where.and[1].field`` -> ``Email “mail_vip”, rule › condition 2 › field``
  (``within_activity``: without the activity, for messages already grouped under it);
  ``schedule.at`` -> ``schedule › at``; ``transitions[0].to`` -> ``transition 1 (aud → mail) › to``;
- ``sentence(error, document, ...)``: ``where: message``, or the message alone for the whole
  document.
"""

import re

TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
WORDS = {"and": "condition", "or": "condition", "not": "not", "where": "rule"}
NAMED_ITEMS = {"subsets": "subset", "conditions": "condition", "columns": "column"}


def tokens(path: str) -> list:
    """``"activities[2].where"`` -> ``["activities", 2, "where"]``."""
    return [int(index) if index else name for name, index in TOKEN.findall(path or "")]


def activity_name(activity: dict) -> str:
    from campaigns.activities import registry

    key, label = activity.get("id") or "?", (activity.get("label") or "").strip()
    if label:
        return f"“{label}” ({key})"
    try:
        kind = registry.get(activity.get("type", "")).label or activity.get("type")
    except KeyError:
        kind = activity.get("type") or "activity"
    return f"{kind} “{key}”"


def _item(name, index, value):
    """Words for ``name[index]``: a named subset or condition by its name, else its number."""
    noun = NAMED_ITEMS.get(name, WORDS.get(name, name.replace("_", " ")))
    item = value[index] if isinstance(value, list) and index < len(value) else None
    label = item.get("name") or item.get("alias") if isinstance(item, dict) else None
    return f"{noun} “{label}”" if isinstance(label, str) and label else f"{noun} {index + 1}"


def _inside(parts: list, value) -> list[str]:
    """Words for the parts of a path below an activity (or the document), following ``value``."""
    out, name = [], None
    for part in parts:
        if isinstance(part, int):
            out.append(_item(name or "item", part, value))
            value = value[part] if isinstance(value, list) and part < len(value) else None
            name = None
            continue
        if name is not None:
            out.append(WORDS.get(name, name.replace("_", " ")))
        name = part
        value = value.get(part) if isinstance(value, dict) else None
    if name is not None and name not in ("and", "or"):
        out.append(WORDS.get(name, name.replace("_", " ")))
    return out


def _head(parts: list, document: dict) -> tuple[list[str], list, object]:
    """(words of the first part, the rest of the path, the value it names)."""
    collection = document.get(parts[0]) if isinstance(document, dict) else None
    if len(parts) < 2 or not isinstance(parts[1], int):
        return [], parts, document
    index = parts[1]
    collection = collection if isinstance(collection, list) else []
    item = collection[index] if index < len(collection) else None
    if parts[0] == "activities" and isinstance(item, dict):
        return [activity_name(item)], parts[2:], item
    if parts[0] == "transitions" and isinstance(item, dict):
        words = f"transition {index + 1} ({item.get('from')} → {item.get('to')})"
        return [words], parts[2:], item
    if parts[0] == "variables" and isinstance(item, dict) and item.get("name"):
        return [f"variable “{item['name']}”"], parts[2:], item
    noun = {"activities": "activity"}.get(parts[0], parts[0].rstrip("s"))
    return [f"{noun} {index + 1}"], parts[2:], item


def where(path: str, document: dict | None, *, within_activity: bool = False) -> str:
    parts = tokens(path)
    if not parts:
        return ""
    head, rest, value = _head(parts, document or {})
    if within_activity and parts[0] == "activities":
        head = []
    return " › ".join(head + _inside(rest, value))


def sentence(error: dict, document: dict | None, *, within_activity: bool = False) -> str:
    place = where(error.get("path", ""), document, within_activity=within_activity)
    return f"{place}: {error['message']}" if place else error["message"]
