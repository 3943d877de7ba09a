"""The roles (issue 14): the data migration makes the six groups with their permissions, on a
fresh database (the permissions are created before the groups are filled)."""

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def names(group):
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migration_made_exactly_the_six_roles():
    assert set(Group.objects.values_list("name", flat=True)) == {
        "Viewer",
        "Editor",
        "Publisher",
        "Approver",
        "Data manager",
        "Administrator",
    }


def test_each_role_holds_its_permissions():
    viewer, editor = Group.objects.get(name="Viewer"), Group.objects.get(name="Editor")
    assert "campaigns.view_campaign" in names(viewer)
    assert "audiences.view_records" not in names(viewer)
    assert "campaigns.publish_campaign" not in names(editor)
    assert {"campaigns.change_campaign", "campaigns.test_run_campaign"} <= names(editor)
    assert "campaigns.publish_campaign" in names(Group.objects.get(name="Publisher"))
    assert "campaigns.decide_task" in names(Group.objects.get(name="Approver"))
    assert "audiences.change_records" in names(Group.objects.get(name="Data manager"))
    admin = names(Group.objects.get(name="Administrator"))
    assert {"auth.change_user", "auth.change_group", "campaigns.manage_policies"} <= admin


def test_consents_and_suppressions_belong_to_the_data_manager():
    data = names(Group.objects.get(name="Data manager"))
    assert {
        "channels.add_consent",
        "channels.add_suppression",
        "channels.delete_suppression",
    } <= data
    viewer = names(Group.objects.get(name="Viewer"))
    assert "channels.view_consent" in viewer and "channels.add_consent" not in viewer
