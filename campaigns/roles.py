"""The roles (issue 14): Django groups with exactly these names, made by a data migration and
editable in the admin afterwards (*Authentication and authorization > Groups*).

| role | may |
|---|---|
| Viewer | read everything except records' personal data |
| Editor | create, edit, test-run and duplicate campaigns and audiences; send proofs; not publish |
| Publisher | publish, pause, resume, stop, close, archive (and trigger) |
| Approver | sign off publication approvals, send confirmations and approval activities |
| Data manager | schemas, records, imports, consents and suppressions |
| Administrator | everything, including users, roles and policies |

``ROLES`` says it as ``app_label.codename`` patterns (``fnmatch``: ``campaigns.view_*``), so a
permission that a later migration adds lands in the right roles when that migration calls
``fill(apps, codenames=[...])`` with its new codenames: only those are added, and nothing is
ever removed, so what administrators changed in the admin stays. ``fill`` first creates the
permissions of every installed app (Django only does that after all migrations ran, and a
fresh database would otherwise get empty groups).
"""

from fnmatch import fnmatch

VIEW = [
    "audiences.view_*",
    "campaigns.view_*",
    "channels.view_*",
    "admin.view_logentry",
    "audiences.count_audience",
]
PERSONAL = ["audiences.view_records"]
EDIT = [
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.*_activity",
    "campaigns.*_transition",
    "campaigns.test_run_campaign",
    "audiences.add_savedaudience",
    "audiences.change_savedaudience",
    "*.send_proof*",
]
PUBLISH = [
    "campaigns.publish_campaign",
    "campaigns.operate_campaign",
    "campaigns.archive_campaign",
    "campaigns.trigger_campaign",
]
APPROVE = ["campaigns.decide_task", "campaigns.assign_task", "*.confirm_send*", *PERSONAL]
DATA = [
    "audiences.*_schema",
    "audiences.*_attribute",
    "audiences.*_link",
    "audiences.*_recordimport",
    "audiences.view_records",
    "audiences.change_records",
    "channels.*consent*",
    "channels.*suppression*",
]

# role -> (patterns granted, patterns never granted)
ROLES = {
    "Viewer": (VIEW, PERSONAL),
    "Editor": (VIEW + EDIT, PERSONAL),
    "Publisher": (VIEW + PUBLISH, PERSONAL),
    "Approver": (VIEW + APPROVE, []),
    "Data manager": (VIEW + DATA, []),
    "Administrator": (["*"], []),
}


def grants(role: str, permission: str) -> bool:
    """Whether ``ROLES`` gives ``permission`` (``app_label.codename``) to ``role``."""
    granted, refused = ROLES[role]
    if any(fnmatch(permission, p) for p in refused):
        return False
    return any(fnmatch(permission, p) for p in granted)


def create_all_permissions(apps) -> None:
    """Django's post-migrate step, run now on the migration's ``apps``."""
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        original = getattr(config, "models_module", None)
        config.models_module = original or True  # create_permissions skips configs without one
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = original


def fill(apps, codenames=None) -> None:
    """Create the roles that are missing and grant them their permissions; with ``codenames``
    (``app_label.codename``), only those. Adds, never removes."""
    create_all_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    every = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    wanted = every if codenames is None else {c: every[c] for c in codenames if c in every}
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.add(*[p for name, p in wanted.items() if grants(role, name)])
