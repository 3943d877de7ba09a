"""Campaign definitions (design 5.4): parse, save, export and validate.

- ``parse(document) -> normalized`` refuses a malformed document with ``ValidationFailed`` (paths
  such as ``activities[2].type``): not an object of this shape, unknown type, duplicate ids,
  transitions naming unknown activities or ports, options of the wrong JSON type (each kind's
  option schema says which), unknown fields, strings longer than their column (the campaign's
  name, an activity's id and label, a transition's port: lengths read from the models). It
  fills every default, so ``export(save(parse(d)))`` is the
  normalized ``d`` (export equality). An activity is ``{"id", "type", "label", "position",
  **options}``.
- ``save(*, campaign, definition)`` makes the draft graph of ``campaign`` that definition:
  activities are matched by id (kept rows keep their database ids), transitions rewritten.
- ``export(campaign) -> dict`` the normalized definition of the draft graph.

Completeness (``campaigns.graph.validate``) is separate: a well-formed draft is saved even when
incomplete.
"""

from django.conf import settings

from campaigns import schedules
from campaigns import variables as campaign_variables
from campaigns.activities import registry
from campaigns.models import Activity, Campaign, Transition
from config.errors import ValidationFailed
from config.inputs import length_error

TOP_LEVEL = ("name", "description", "frequency_cap", "error_policy", "schedule", "variables")
ACTIVITY_FIELDS = ("id", "type", "label", "position")
TRANSITION_FIELDS = ("from", "port", "to")
POLICY_DEFAULTS = {"on_error": "stop", "retries": 0, "retry_delay": "1min"}


def _err(path, message):
    return {"path": path, "message": message}


def _fits(model, field, value, path, errors):
    problem = length_error(model, field, value)
    if problem:
        errors.append(_err(path, problem))


def _unknown(item, allowed, path, errors):
    for key in sorted(set(item) - set(allowed), key=str):
        errors.append(_err(f"{path}.{key}" if path else key, "unknown field"))


def _policy(policy, errors):
    if not isinstance(policy, dict):
        errors.append(_err("error_policy", "must be an object"))
        return dict(POLICY_DEFAULTS)
    _unknown(policy, POLICY_DEFAULTS, "error_policy", errors)
    merged = {**POLICY_DEFAULTS, **policy}
    if merged["on_error"] not in ("stop", "ignore"):
        errors.append(_err("error_policy.on_error", "must be stop or ignore"))
    retries = merged["retries"]
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        errors.append(_err("error_policy.retries", "must be a non-negative integer"))
    if not isinstance(merged["retry_delay"], str):
        errors.append(_err("error_policy.retry_delay", 'must be a duration such as "5min"'))
    return merged


def _frequency_cap(cap, errors):
    """``{"messages": K, "days": D}`` (positive integers) or None: the setting (design 5.4)."""
    if cap is None:
        return None
    if not isinstance(cap, dict):
        errors.append(_err("frequency_cap", 'must be {"messages": K, "days": D} or null'))
        return None
    _unknown(cap, ("messages", "days"), "frequency_cap", errors)
    for name in ("messages", "days"):
        value = cap.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10000:
            errors.append(_err(f"frequency_cap.{name}", "must be an integer from 1 to 10000"))
    return {"messages": cap.get("messages"), "days": cap.get("days")}


def _schedule(schedule, errors):
    """The schedule with its defaults; a schedule that cannot launch is refused on save
    (``campaigns.schedules.errors``: unknown time zone, bad cron, interval too short...)."""
    if not isinstance(schedule, dict):
        errors.append(_err("schedule", "must be an object"))
        return {}
    merged = {"frequency": "asap", "timezone": settings.TIME_ZONE, **schedule}
    errors += schedules.errors(merged)
    return merged


def _activity(index, item, errors):
    path = f"activities[{index}]"
    if not isinstance(item, dict):
        errors.append(_err(path, "an activity is an object"))
        return None
    if not isinstance(item.get("id"), str) or not item["id"]:
        errors.append(_err(f"{path}.id", "an id is required"))
        return None
    _fits(Activity, "key", item["id"], f"{path}.id", errors)
    try:
        kind = registry.get(item.get("type"))
    except (KeyError, TypeError):
        errors.append(_err(f"{path}.type", f"unknown activity type {item.get('type')!r}"))
        return None
    options = {k: v for k, v in item.items() if k not in ACTIVITY_FIELDS}
    errors += kind.type_errors(options, path)
    label = item.get("label", "")
    if not isinstance(label, str):
        errors.append(_err(f"{path}.label", "must be a string"))
    _fits(Activity, "label", label, f"{path}.label", errors)
    position = item.get("position")
    if position is not None and not (
        isinstance(position, list)
        and len(position) == 2
        and all(isinstance(p, int | float) and not isinstance(p, bool) for p in position)
    ):
        errors.append(_err(f"{path}.position", "must be [x, y]"))
    return {
        "id": item["id"],
        "type": kind.type,
        "label": label if isinstance(label, str) else "",
        "position": position,
        **kind.with_defaults(options),
    }


def _transitions(transitions, activities, errors):
    by_id = {a["id"]: a for a in activities}
    out = []
    for index, item in enumerate(transitions):
        path = f"transitions[{index}]"
        if not isinstance(item, dict):
            errors.append(_err(path, "a transition is an object"))
            continue
        _unknown(item, TRANSITION_FIELDS, path, errors)
        port = item.get("port", "out")
        if not isinstance(port, str):
            errors.append(_err(f"{path}.port", "must be a string"))
            continue
        _fits(Transition, "port", port, f"{path}.port", errors)
        for end in ("from", "to"):
            if not isinstance(item.get(end), str) or item[end] not in by_id:
                errors.append(_err(f"{path}.{end}", f"no activity {item.get(end)!r}"))
        source = by_id.get(item.get("from")) if isinstance(item.get("from"), str) else None
        if source is not None:
            ports = registry.get(source["type"]).ports_for(source)
            if port not in ports:
                errors.append(_err(f"{path}.port", f"{source['type']} has no port {port!r}"))
        out.append({"from": item.get("from"), "port": port, "to": item.get("to")})
    return out


def _list(document, name, errors):
    value = document.get(name, [])
    if not isinstance(value, list):
        errors.append(_err(name, "must be a list"))
        return []
    return value


def parse(document):
    if not isinstance(document, dict):
        raise ValidationFailed([_err("", "a campaign definition is a JSON object")])
    errors = []
    unknown = set(document) - set(TOP_LEVEL) - {"activities", "transitions"}
    errors += [_err(name, "unknown field") for name in sorted(unknown)]
    if not isinstance(document.get("name"), str) or not document["name"].strip():
        errors.append(_err("name", "a name is required"))
    _fits(Campaign, "name", document.get("name"), "name", errors)
    if not isinstance(document.get("description", ""), str):
        errors.append(_err("description", "must be a string"))
    declared = _list(document, "variables", errors)
    errors += campaign_variables.check_declarations(declared)
    activities = [
        _activity(i, a, errors) for i, a in enumerate(_list(document, "activities", errors))
    ]
    activities = [a for a in activities if a is not None]
    seen = set()
    for index, activity in enumerate(activities):
        if activity["id"] in seen:
            errors.append(_err(f"activities[{index}].id", f"duplicate id {activity['id']!r}"))
        seen.add(activity["id"])
    normalized = {
        "name": document.get("name"),
        "description": document.get("description", ""),
        "frequency_cap": _frequency_cap(document.get("frequency_cap"), errors),
        "error_policy": _policy(document.get("error_policy", {}), errors),
        "schedule": _schedule(document.get("schedule", {}), errors),
        "variables": [
            {"name": v.get("name"), "type": v.get("type"), "default": v.get("default")}
            for v in declared
            if isinstance(v, dict)
        ],
        "activities": activities,
        "transitions": _transitions(_list(document, "transitions", errors), activities, errors),
    }
    if errors:
        raise ValidationFailed(errors, document=document)
    return normalized


def options_of(item):
    """The options of a normalized activity (everything but id, type, label, position)."""
    return {k: v for k, v in item.items() if k not in ACTIVITY_FIELDS}


def _sync_activities(campaign, activities):
    """Make the draft's activity rows ``activities`` (matched by key); returns {key: row}."""
    existing = {a.key: a for a in Activity.objects.non_polymorphic().filter(campaign=campaign)}
    wanted = {item["id"] for item in activities}
    Activity.objects.filter(campaign=campaign).exclude(key__in=wanted).delete()
    by_key = {}
    for order, item in enumerate(activities):
        row = existing.get(item["id"]) or Activity(campaign=campaign, key=item["id"])
        row.type, row.label, row.position = item["type"], item["label"], item["position"]
        row.options, row.order = options_of(item), order
        row.save()
        by_key[item["id"]] = row
    return by_key


def save(*, campaign, definition):
    """Make the draft graph of ``campaign`` the normalized ``definition``."""
    campaign.description = definition["description"]
    campaign.error_policy = definition["error_policy"]
    campaign.frequency_cap = definition["frequency_cap"]
    campaign.schedule = definition["schedule"]
    campaign.variables = definition["variables"]
    campaign.save()
    campaign.transitions.all().delete()
    by_key = _sync_activities(campaign, definition["activities"])
    Transition.objects.bulk_create(
        Transition(
            campaign=campaign,
            source=by_key[t["from"]],
            port=t["port"],
            target=by_key[t["to"]],
            order=order,
        )
        for order, t in enumerate(definition["transitions"])
    )


def export(campaign):
    activities = [
        {
            "id": a.key,
            "type": a.type,
            "label": a.label,
            "position": a.position,
            **registry.get(a.type).with_defaults(a.options),
        }
        for a in Activity.objects.non_polymorphic()
        .filter(campaign=campaign)
        .order_by("order", "id")
    ]
    transitions = [
        {"from": t.source.key, "port": t.port, "to": t.target.key}
        for t in campaign.transitions.select_related("source", "target").order_by("order", "id")
    ]
    return {
        "name": campaign.name,
        "description": campaign.description,
        "frequency_cap": campaign.frequency_cap,
        "error_policy": {**POLICY_DEFAULTS, **campaign.error_policy},
        "schedule": campaign.schedule,
        "variables": campaign.variables,
        "activities": activities,
        "transitions": transitions,
    }
