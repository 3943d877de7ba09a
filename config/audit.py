"""The audit trail: Django's admin ``LogEntry``, written through this one helper by every service
that changes something, whether called from the admin, the API or a command.

It is append-only: the admin offers no edit or delete (``config.audit_admin``) and PostgreSQL
refuses any UPDATE or DELETE of ``django_admin_log`` (a trigger, campaigns migration 0005), so
users who have entries are deactivated, never deleted. Entries are read through ``entries``
(filters) and ``describe`` (one entry as JSON), in the admin and at ``/api/audit/``.

Each entry written here stores ``[{"message", "by", "event"?, "before"?, "after"?,
"details"?}]`` as its change message: ``event`` is the product's name of what happened
(``publish``, ``approve``, ``reject``, ``task_assigned``, ``roles_changed``, ``import``...),
``before`` / ``after`` the values that changed, where that makes sense.
"""

import json

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType

ACTIONS = {"add": ADDITION, "change": CHANGE, "delete": DELETION}


def _payload(message, by, event, before, after, details):
    item = {"message": message, "by": by}
    extra = {"event": event, "before": before, "after": after, "details": details}
    item.update({k: v for k, v in extra.items() if v})
    return json.dumps([item], default=str)


def log_change(*, user, obj, action, message="", details=None, event=None, before=None, after=None):
    """Record ``action`` ("add", "change" or "delete") on ``obj`` by ``user``.

    ``user`` may be None (or ``SYSTEM``) for changes made by the system (a scheduled run, the
    tick, a command without a user); they are attributed to the first superuser, since LogEntry
    requires a user, and marked ``"by": "system"`` in the message. ``message`` is a sentence for
    people; ``event`` the product's name of the action (defaults to ``action``); ``before`` /
    ``after`` what changed; ``details`` any JSON. Returns the LogEntry, or None when there is no
    user at all to attribute it to.
    """
    from django.contrib.auth import get_user_model

    by = "user"
    if user is None or not getattr(user, "is_authenticated", False):
        user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        by = "system"
        if user is None:
            return None
    flag = ACTIONS[action]
    return LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=flag,
        change_message=_payload(message, by, event, before, after, details),
    )


def event_filter(event):
    """A ``Q`` for the entries whose ``event`` is ``event`` (as ``log_change`` writes it)."""
    from django.db.models import Q

    return Q(change_message__contains=json.dumps({"event": event})[1:-1])


def entries(*, obj=None, model=None, user=None, action=None, since=None, until=None):
    """The audit trail, newest first, as a LogEntry queryset, optionally narrowed to one object
    (``obj``), one model class (``model``), one user, one action ("add", "change", "delete", or
    an ``event`` such as "publish") and a time span (``since`` inclusive, ``until`` exclusive)."""
    qs = LogEntry.objects.select_related("user", "content_type").order_by("-action_time", "-pk")
    if obj is not None:
        qs = qs.filter(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk),
        )
    if model is not None:
        qs = qs.filter(content_type=ContentType.objects.get_for_model(model, False))
    if user is not None:
        qs = qs.filter(user=user)
    if action in ACTIONS:
        qs = qs.filter(action_flag=ACTIONS[action])
    elif action is not None:
        qs = qs.filter(event_filter(action))
    if since is not None:
        qs = qs.filter(action_time__gte=since)
    if until is not None:
        qs = qs.filter(action_time__lt=until)
    return qs


def describe(entry):
    """One LogEntry as ``{"action", "event", "message", "by", "before", "after", "details",
    "user", "at", ...}``.

    Entries written by ``log_change`` carry ``message``, ``by``, ``event``, ``before``,
    ``after`` and ``details``; the admin's own entries (a JSON list of changes, or plain text)
    give their ``get_change_message()``, with the action as their event.
    """
    names = {flag: name for name, flag in ACTIONS.items()}
    base = {
        "id": entry.pk,
        "action": names[entry.action_flag],
        "user": entry.user.get_username(),
        "at": entry.action_time,
        "content_type": f"{entry.content_type.app_label}.{entry.content_type.model}"
        if entry.content_type
        else None,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
    }
    try:
        payload = json.loads(entry.change_message or "[]")
    except ValueError:
        payload = None
    if isinstance(payload, list) and len(payload) == 1 and "by" in payload[0]:
        item = payload[0]
        return {
            **base,
            "event": item.get("event") or base["action"],
            "message": item.get("message", ""),
            "by": item["by"],
            "before": item.get("before"),
            "after": item.get("after"),
            "details": item.get("details"),
        }
    return {
        **base,
        "event": base["action"],
        "message": entry.get_change_message(),
        "by": "user",
        "before": None,
        "after": None,
        "details": None,
    }
