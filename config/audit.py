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
