"""config.audit: one LogEntry per change, from any caller, readable back."""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from config.audit import describe, entries, log_change

pytestmark = pytest.mark.django_db


def quiet_group(name):
    """A group made without signals (creating roles is itself audited, config.audit_signals)."""
    (group,) = Group.objects.bulk_create([Group(name=name)])
    return group


@pytest.fixture
def marketer(django_user_model):
    return django_user_model.objects.create_user("marketer", is_staff=True)


def test_log_change_writes_a_log_entry_for_the_user(marketer):
    group = quiet_group("VIP")
    entry = log_change(
        user=marketer, obj=group, action="change", message="Renamed.", details={"from": "vip"}
    )
    stored = LogEntry.objects.get(pk=entry.pk)
    assert stored.user == marketer
    assert stored.content_type == ContentType.objects.get_for_model(Group)
    assert stored.object_id == str(group.pk)
    assert stored.object_repr == "VIP"
    assert stored.action_flag == CHANGE
    assert json.loads(stored.change_message) == [
        {"message": "Renamed.", "by": "user", "details": {"from": "vip"}}
    ]
    assert stored.get_admin_url() == f"/admin/auth/group/{group.pk}/change/"


def test_each_action_has_its_flag(marketer):
    group = quiet_group("g")
    flags = [log_change(user=marketer, obj=group, action=a).action_flag for a in ("add", "change")]
    flags.append(log_change(user=marketer, obj=group, action="delete").action_flag)
    assert flags == [ADDITION, CHANGE, DELETION]
    with pytest.raises(KeyError):
        log_change(user=marketer, obj=group, action="publish")


def test_system_changes_go_to_the_first_superuser(django_user_model):
    group = quiet_group("g")
    assert log_change(user=None, obj=group, action="add", message="By the scheduler.") is None
    assert not LogEntry.objects.exists()
    first = django_user_model.objects.create_superuser("root")
    django_user_model.objects.create_superuser("other")
    entry = log_change(user=None, obj=group, action="add", message="By the scheduler.")
    assert entry.user == first
    assert describe(entry)["by"] == "system"
    assert describe(entry)["message"] == "By the scheduler."


def test_entries_filter_and_describe(marketer, django_user_model):
    admin = django_user_model.objects.create_superuser("root")
    first, second = quiet_group("a"), quiet_group("b")
    log_change(user=marketer, obj=first, action="add", message="Created a.")
    log_change(user=admin, obj=first, action="change", message="Changed a.", details={"n": 1})
    log_change(user=marketer, obj=second, action="delete", message="Deleted b.")
    assert [e.change_message for e in entries(obj=first)] == [
        json.dumps([{"message": "Changed a.", "by": "user", "details": {"n": 1}}]),
        json.dumps([{"message": "Created a.", "by": "user"}]),
    ]
    assert [describe(e)["message"] for e in entries(user=marketer)] == ["Deleted b.", "Created a."]
    assert [describe(e)["message"] for e in entries(action="change")] == ["Changed a."]
    assert entries(model=Group).count() == 3
    described = describe(entries(action="change").get())
    assert described | {"at": None, "id": None} == {
        "id": None,
        "at": None,
        "action": "change",
        "user": "root",
        "content_type": "auth.group",
        "object_id": str(first.pk),
        "object_repr": "a",
        "event": "change",
        "message": "Changed a.",
        "by": "user",
        "before": None,
        "after": None,
        "details": {"n": 1},
    }


def test_describe_reads_the_admins_own_entries(marketer):
    group = quiet_group("g")
    entry = LogEntry.objects.log_actions(
        user_id=marketer.pk,
        queryset=[group],
        action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["Name"]}}],
        single_object=True,
    )
    assert describe(entry)["message"] == "Changed Name."
    assert describe(entry)["by"] == "user"
