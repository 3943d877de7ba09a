"""Who may do what, decided in the services (design 9), whatever called them: the admin, the API
or a command. No HTTP here: a refusal is ``config.errors.Forbidden``.

- ``SYSTEM``: the acting "user" of what the product does by itself (the scheduler's launches, a
  signal sent by a run, a command run by an operator). It may do everything; the audit trail
  records it as the system.
- ``allowed(user, permission) -> bool``: ``permission`` is ``"app_label.codename"``; superusers
  and ``SYSTEM`` have every permission, inactive users none.
- ``require(user, permission, doing)`` raises ``Forbidden("<doing> needs <permission>")``, the
  message of design 5.0 ("Publishing needs campaigns.publish_campaign").

The named permissions (codenames of design 9) are declared on the models' ``Meta.permissions``:
``campaigns.test_run_campaign``, ``publish_campaign``, ``operate_campaign`` (pause, resume, stop,
close), ``archive_campaign``, ``trigger_campaign``, ``decide_task``, ``view_job_queues``;
``audiences.view_records`` (anything that shows personal data: records, previews, transition
rows), ``audiences.change_records`` (writes and imports), ``audiences.count_audience`` (counts
and distributions).
"""

from config.errors import Forbidden


class _System:
    """The product acting on its own behalf."""

    pk = None
    is_authenticated = False
    is_active = True
    is_superuser = True
    is_staff = True
    username = "system"

    def has_perm(self, permission):
        return True

    def get_username(self):
        return "system"

    def __str__(self):
        return "the system"

    def __repr__(self):
        return "SYSTEM"


SYSTEM = _System()


def is_system(user) -> bool:
    return user is SYSTEM


def allowed(user, permission: str) -> bool:
    if user is SYSTEM:
        return True
    if user is None or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or user.has_perm(permission))


def require(user, permission: str, doing: str) -> None:
    """Raise ``Forbidden`` naming ``permission`` unless ``user`` has it."""
    if not allowed(user, permission):
        raise Forbidden(f"{doing} needs {permission}", permission=permission)


def real_user(user):
    """``user`` when it is a saved user (for foreign keys), else None (SYSTEM, anonymous)."""
    return user if getattr(user, "pk", None) and getattr(user, "is_authenticated", False) else None
