"""The audit of role and permission changes (issue 14): who gave or took which role (group) or
permission, from whom, when, with the sets before and after; roles created, renamed, deleted;
the staff, superuser and active flags of users. Receivers on Django's auth models, so every
way of changing them is recorded (the admin, a shell, a command).

The acting user is the request's (``AuditRequestMiddleware`` keeps the current request; DRF's
token authentication sets ``request.user`` on it too), else the system. Migrations change
historical models, which these receivers do not see.
"""

import contextvars

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from config.audit import log_change

_request = contextvars.ContextVar("audited_request", default=None)
FLAGS = ("is_active", "is_staff", "is_superuser")


class AuditRequestMiddleware:
    """Keeps the current request for ``acting_user`` (after authentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def acting_user():
    user = getattr(_request.get(), "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def _label(obj):
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    return str(obj)


def _names(manager):
    if manager.model is Permission:
        manager = manager.select_related("content_type")
    return sorted(_label(obj) for obj in manager.all())


def _record(owner, field, added, removed):
    after = _names(getattr(owner, field))
    before = sorted((set(after) - set(added)) | set(removed))
    role = field == "groups"
    noun = "roles" if role else "permissions"
    owner_word = "User" if isinstance(owner, get_user_model()) else "Role"
    words = [f"+{n}" for n in added] + [f"-{n}" for n in removed]
    log_change(
        user=acting_user(), obj=owner, action="change", event=f"{noun}_changed",
        message=f"{owner_word} {owner}: {noun} changed ({', '.join(words)}).",
        before={noun: before}, after={noun: after},
    )  # fmt: skip


def _changed(field):
    """An ``m2m_changed`` receiver for ``<owner>.<field>`` (users' groups and permissions,
    groups' permissions), seen from either side."""

    def receiver(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action == "pre_clear":
            instance._cleared = list(getattr(instance, field).all()) if not reverse else None
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if action == "post_clear":
            if reverse or not getattr(instance, "_cleared", None):
                return
            _record(instance, field, [], [_label(o) for o in instance._cleared])
            return
        others = list(model.objects.filter(pk__in=pk_set or ()))
        pairs = [(o, [instance]) for o in others] if reverse else [(instance, others)]
        for owner, items in pairs:
            names = [_label(i) for i in items]
            added, removed = (names, []) if action == "post_add" else ([], names)
            _record(owner, field, added, removed)

    return receiver


def _flags_before(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_flags = None
        return
    old = sender.objects.filter(pk=instance.pk).values(*FLAGS).first()
    instance._audit_flags = old


def _flags_after(sender, instance, created, raw=False, **kwargs):
    old = getattr(instance, "_audit_flags", None)
    if raw or created or not old:
        return
    changed = {f: getattr(instance, f) for f in FLAGS if old[f] != getattr(instance, f)}
    if changed:
        log_change(
            user=acting_user(), obj=instance, action="change", event="user_flags_changed",
            message=f"User {instance}: " + ", ".join(f"{k} {v}" for k, v in changed.items()) + ".",
            before={k: old[k] for k in changed}, after=changed,
        )  # fmt: skip


def _role_before(sender, instance, raw=False, **kwargs):
    old = None if raw or instance.pk is None else sender.objects.filter(pk=instance.pk).first()
    instance._audit_name = old.name if old is not None else None


def _role_saved(sender, instance, created, raw=False, **kwargs):
    old = getattr(instance, "_audit_name", None)
    if raw or not (created or (old is not None and old != instance.name)):
        return
    words = "created" if created else f"renamed from {old}"
    log_change(
        user=acting_user(), obj=instance, action="add" if created else "change",
        event="role_saved", message=f"Role {instance} {words}.",
        before=None if created else {"name": old}, after={"name": instance.name},
    )  # fmt: skip


def _role_deleted(sender, instance, **kwargs):
    log_change(
        user=acting_user(), obj=instance, action="delete", event="role_deleted",
        message=f"Role {instance} deleted.", before={"name": instance.name},
    )  # fmt: skip


def connect() -> None:
    User = get_user_model()
    m2m_changed.connect(_changed("groups"), sender=User.groups.through, weak=False,
                        dispatch_uid="audit.user_groups")  # fmt: skip
    m2m_changed.connect(_changed("user_permissions"), sender=User.user_permissions.through,
                        weak=False, dispatch_uid="audit.user_permissions")  # fmt: skip
    m2m_changed.connect(_changed("permissions"), sender=Group.permissions.through, weak=False,
                        dispatch_uid="audit.group_permissions")  # fmt: skip
    pre_save.connect(_flags_before, sender=User, dispatch_uid="audit.user_flags_before")
    post_save.connect(_flags_after, sender=User, dispatch_uid="audit.user_flags_after")
    pre_save.connect(_role_before, sender=Group, dispatch_uid="audit.role_before")
    post_save.connect(_role_saved, sender=Group, dispatch_uid="audit.role_saved")
    post_delete.connect(_role_deleted, sender=Group, dispatch_uid="audit.role_deleted")
