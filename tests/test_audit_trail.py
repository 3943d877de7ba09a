"""The audit trail (issue 14): append-only for everyone (PostgreSQL and the admin), users with
entries deactivated rather than deleted, what gets recorded (lifecycle actions with before and
after, role and permission changes, imports), and reading it filtered in the admin and at audit/."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction

from campaigns import services
from campaigns.models import Campaign
from config.access import SYSTEM
from config.audit import describe, entries, log_change
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.governance import created
from tests.conftest import member_of, staff_with
from tests.conftest import token_client as api

pytestmark = [pytest.mark.django_db(transaction=True)]
schema, engine = campaign_fixtures.schema, campaign_fixtures.engine  # a customer schema; Redis


@pytest.fixture
def entry(staff_user):
    return log_change(user=staff_user, obj=staff_user, action="change", message="Noted.")


def test_postgresql_refuses_updates_and_deletes_of_the_trail(entry):
    for change in (
        lambda: LogEntry.objects.filter(pk=entry.pk).update(change_message="[]"),
        lambda: LogEntry.objects.filter(pk=entry.pk).delete(),
        lambda: entry.save(),  # an UPDATE of an existing row
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert LogEntry.objects.get(pk=entry.pk).change_message == entry.change_message


def test_the_admin_offers_no_edit_or_delete_not_even_to_superusers(entry, client, staff_user):
    client.force_login(staff_user)
    base = "/admin/admin/logentry/"
    listing = client.get(base)
    assert listing.status_code == 200 and "Noted." in listing.text
    assert 'name="action"' not in listing.text  # no bulk delete
    page = client.get(f"{base}{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert client.post(f"{base}{entry.pk}/change/", {"change_message": "[]"}).status_code == 403
    assert client.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_users_with_audit_entries_are_deactivated_not_deleted(entry, client, staff_user):
    ann = staff_with(name="ann")
    log_change(user=ann, obj=ann, action="change", message="Ann did something.")
    newcomer = staff_with(name="newcomer")
    client.force_login(staff_user)
    page = client.post(f"/admin/auth/user/{ann.pk}/delete/", {"post": "yes"}, follow=True)
    assert "deactivated instead of deleted" in page.text
    ann.refresh_from_db()
    assert ann.is_active is False
    assert describe(entries(obj=ann, action="user_deactivated").get())["after"] == {
        "is_active": False
    }
    client.post(f"/admin/auth/user/{newcomer.pk}/delete/", {"post": "yes"})
    assert not type(ann).objects.filter(pk=newcomer.pk).exists()  # no entries: deleted
    with pytest.raises(DatabaseError), transaction.atomic():
        ann.delete()  # the cascade to the trail is refused too


def test_role_and_permission_changes_are_recorded_with_before_and_after(roles, client, staff_user):
    client.force_login(staff_user)
    editor = roles["Editor"]
    publish = Permission.objects.get(codename="publish_campaign")
    kept = list(editor.permissions.values_list("pk", flat=True))
    client.post(
        f"/admin/auth/group/{editor.pk}/change/",
        {"name": "Editor", "permissions": [*kept, publish.pk]},
    )
    change = describe(entries(obj=editor, action="permissions_changed").get())
    assert (change["user"], change["by"]) == ("staff", "user")
    assert "campaigns.publish_campaign" in change["after"]["permissions"]
    assert "campaigns.publish_campaign" not in change["before"]["permissions"]
    ann = member_of(roles["Viewer"], "ann")
    ann.groups.remove(roles["Viewer"])
    removed = describe(entries(obj=ann, action="roles_changed").first())
    assert (removed["before"], removed["after"], removed["by"]) == (
        {"roles": ["Viewer"]}, {"roles": []}, "system"
    )  # fmt: skip
    ann.is_superuser = True
    ann.save()
    flags = describe(entries(obj=ann, action="user_flags_changed").get())
    assert (flags["before"], flags["after"]) == ({"is_superuser": False}, {"is_superuser": True})


def test_lifecycle_actions_are_recorded_with_the_state_before_and_after(schema, staff_user):
    campaign = created(schema, schedule={"frequency": "signal"})
    services.publish(campaign=campaign, user=SYSTEM)
    services.pause(campaign=campaign, user=staff_user)
    paused = describe(entries(obj=campaign, action="pause").get())
    assert (paused["user"], paused["before"], paused["after"]) == (
        "staff", {"status": "live"}, {"status": "paused"}
    )  # fmt: skip
    published = describe(entries(obj=campaign, action="publish").get())
    assert published["by"] == "system" and published["after"] == {"status": "live", "version": 1}


def test_imports_are_recorded(schema, roles, engine, staff_user):
    manager = member_of(roles["Data manager"], "dana")
    upload = SimpleUploadedFile("more.csv", b"customer_id,email,country,points\nc99,x@y.z,FR,1\n")
    response = api(manager).post(
        f"/api/schemas/{schema.name}/imports/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 202, response.content
    (entry,) = [describe(e) for e in entries(action="import")]
    assert (
        entry["user"] == "dana"
        and entry["object_repr"] == f"Import {response.json()['id']} into {schema.name}"
    )
    assert entry["after"]["file"] == "more.csv" and entry["after"]["mode"] == "upsert"


def test_the_trail_is_read_filtered_at_audit(schema, roles, staff_user):
    viewer = member_of(roles["Viewer"], "vera")  # admin.view_logentry
    campaign = created(schema, schedule={"frequency": "signal"})
    services.publish(campaign=campaign, user=staff_user)
    services.pause(campaign=campaign, user=staff_user)
    type_name = "campaigns.campaign"
    page = (
        api(viewer)
        .get(
            f"/api/audit/?content_type={type_name}&object_id={campaign.pk}&user=staff&action=pause"
        )
        .json()
    )
    assert [e["event"] for e in page["results"]] == ["pause"]
    assert page["results"][0]["after"] == {"status": "paused"}
    everything = api(viewer).get(f"/api/audit/?content_type={type_name}&object_id={campaign.pk}")
    assert [e["event"] for e in everything.json()["results"]] == ["pause", "publish", "create"]
    since = everything.json()["results"][0]["at"]
    assert [
        e["event"]
        for e in api(viewer).get(f"/api/audit/?since={since.replace('+', '%2B')}").json()["results"]
    ] == ["pause"]
    bad = api(viewer).get("/api/audit/?since=yesterday&content_type=campaigns.nothing")
    assert bad.status_code == 400
    assert {e["path"] for e in bad.json()["errors"]} == {"content_type"}
    refused = api(staff_with(name="nobody")).get("/api/audit/")
    assert refused.status_code == 403 and "admin.view_logentry" in refused.json()["detail"]


def test_the_admin_lists_one_objects_trail_by_event(schema, roles, client, staff_user):
    campaign = created(schema, schedule={"frequency": "signal"})
    services.publish(campaign=campaign, user=staff_user)
    other = created(schema, name="Another")
    services.publish(campaign=other, user=staff_user)
    client.force_login(member_of(roles["Viewer"], "vera"))
    type_id = ContentType.objects.get_for_model(Campaign).pk
    page = client.get(f"/admin/admin/logentry/?object={type_id}:{campaign.pk}&event=publish")
    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert [json.loads(e.change_message)[0]["event"] for e in shown] == ["publish"]
    assert shown[0].object_id == str(campaign.pk)
