"""The audit trail: Django's admin ``LogEntry``, written through this one helper by every service
that changes something, whether called from the admin, the API or a command."""

import json

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType

ACTIONS = {"add": ADDITION, "change": CHANGE, "delete": DELETION}


def log_change(*, user, obj, action, message="", details=None):
    """Record ``action`` ("add", "change" or "delete") on ``obj`` by ``user``.

    ``user`` may be None for changes made by the system (a scheduled run, a command without a
    user); they are attributed to the first superuser, since LogEntry requires a user, and marked
    ``"by": "system"`` in the message. ``message`` is a sentence for people; ``details`` any JSON.
    Returns the LogEntry, or None when there is no user at all to attribute it to.
    """
    from django.contrib.auth import get_user_model

    by = "user"
    if user is None or not getattr(user, "is_authenticated", False):
        user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        by = "system"
        if user is None:
            return None
    payload = [{"message": message, "by": by, **({"details": details} if details else {})}]
    return LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=ACTIONS[action],
        change_message=json.dumps(payload),
    )


def entries(*, obj=None, model=None, user=None, action=None):
    """The audit trail, newest first, as a LogEntry queryset, optionally narrowed to one object
    (``obj``), one model class (``model``), one user and one action ("add", "change", "delete")."""
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
    if action is not None:
        qs = qs.filter(action_flag=ACTIONS[action])
    return qs


def describe(entry):
    """One LogEntry as ``{"action", "message", "by", "details", "user", "at", ...}``.

    Entries written by ``log_change`` carry ``message``, ``by`` and ``details``; the admin's own
    entries (a JSON list of changes, or plain text) give their ``get_change_message()``.
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
            "message": item.get("message", ""),
            "by": item["by"],
            "details": item.get("details"),
        }
    return {**base, "message": entry.get_change_message(), "by": "user", "details": None}
