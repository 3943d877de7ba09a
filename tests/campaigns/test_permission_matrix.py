"""The permission matrix (design 9): every row of the lifecycle table, through the API and through
the admin, with real non-superuser staff users holding exactly the permissions of one row.

For each action: a user with the row's permission (plus the view permission that lets them see
the object) succeeds; a user with every other permission of the table but that one is refused
with 403 naming it (API) or an error message (admin), and nothing changes; with the permission
but in a state where the action does not apply, the API answers 409 naming the state."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns import lifecycle, services
from campaigns.models import Campaign, CampaignStatus, HumanTask, Run
from config.access import SYSTEM
from tests.campaigns.test_admin import document
from tests.conftest import staff_with
from tests.conftest import token_client as api

pytestmark = [pytest.mark.django_db(transaction=True)]

VIEW = {
    "campaign": "campaigns.view_campaign",
    "run": "campaigns.view_run",
    "task": "campaigns.view_humantask",
}
TABLE_PERMISSIONS = sorted({a.permission for a in lifecycle.TABLE})


@pytest.fixture
def redis_clean(engine):
    return engine


def user_with(django_user_model, *perms, name="someone"):
    return staff_with(*perms, name=name)


def campaign_in(schema, state, signal=False):
    doc = document(schema, f"Matrix {state}")
    if signal:
        doc["schedule"] = {"frequency": "signal"}
    campaign = services.create_from_definition(document=doc, user=SYSTEM)
    if state == "draft":
        return campaign
    services.publish(campaign=campaign, user=SYSTEM)
    if state == "paused":
        services.pause(campaign=campaign, user=SYSTEM)
    if state == "revising":
        services.revise(campaign=campaign, user=SYSTEM)
    return Campaign.objects.get(pk=campaign.pk)


def _campaign_call(method, path, body=None):
    def call(client, obj):
        return getattr(client, method)(f"/api/campaigns/{obj.pk}/{path}", body, format="json")

    return call


# action -> (subject, state to set up, state where it does not apply, API call)
ROWS = {
    "edit": ("campaign", "draft", "live", None),
    "test_run": ("campaign", "draft", None, _campaign_call("post", "test-run/")),
    "publish": ("campaign", "draft", "live", _campaign_call("post", "publish/")),
    "revise": ("campaign", "live", "draft", _campaign_call("post", "revise/")),
    "discard_revision": (
        "campaign",
        "revising",
        "live",
        _campaign_call("post", "discard-revision/"),
    ),
    "pause": ("campaign", "live", "draft", _campaign_call("post", "pause/")),
    "resume": ("campaign", "paused", "live", _campaign_call("post", "resume/")),
    "stop": ("campaign", "live", "draft", _campaign_call("post", "stop/")),
    "close": ("campaign", "live", "draft", _campaign_call("post", "close/")),
    "duplicate": ("campaign", "draft", None, _campaign_call("post", "duplicate/")),
    "archive": ("campaign", "draft", "live", _campaign_call("post", "archive/")),
    "trigger": ("campaign", "signal", "draft", _campaign_call("post", "trigger/")),
    "stop_run": ("run", "running", None, None),
    "decide_task": ("task", "new", None, None),
    "assign_task": ("task", "new", None, None),
    "confirm_send": ("task", "new", None, None),
    "send_proof": ("campaign", "mailing", None, None),
}
PROOF = {"activity": "mail", "record": "c4", "to": ["allowed@example.com"]}


def mailing(schema):
    """A draft with an email activity after the audience (for proofs)."""
    doc = document(schema, "Matrix mailing")
    doc["activities"].append({"id": "mail", "type": "email", "subject": "Hi", "html": "<p>Hi</p>"})
    doc["transitions"].append({"from": "aud", "to": "mail"})
    return services.create_from_definition(document=doc, user=SYSTEM)


def test_the_matrix_covers_every_row_of_the_table():
    assert set(ROWS) == set(lifecycle.ACTIONS)


def setup(schema, action):
    subject, state, _other, _call = ROWS[action]
    if subject == "run":
        campaign = campaign_in(schema, "draft")
        return services.test_run(campaign=campaign, user=SYSTEM)
    if subject == "task":
        kind = "send_confirmation" if action == "confirm_send" else "approval"
        group = Group.objects.create(name="approvers")
        return HumanTask.objects.create(title="Go?", group=group, kind=kind)
    if state == "signal":
        return campaign_in(schema, "live", signal=True)
    if state == "mailing":
        return mailing(schema)
    return campaign_in(schema, state)


def call_api(client, action, obj, schema):
    if action == "edit":
        body = {**document(schema, "Edited"), "description": "changed"}
        return client.put(f"/api/campaigns/{obj.pk}/", body, format="json")
    if action == "stop_run":
        return client.post(f"/api/runs/{obj.pk}/stop/")
    if action in ("decide_task", "confirm_send"):
        return client.post(f"/api/tasks/{obj.pk}/approve/", {"comment": "ok"}, format="json")
    if action == "assign_task":
        return client.post(f"/api/tasks/{obj.pk}/assign/", {}, format="json")  # take it
    if action == "send_proof":
        return client.post(f"/api/campaigns/{obj.pk}/proof/", PROOF, format="json")
    return ROWS[action][3](client, obj)


def allowed_user(django_user_model, action, obj):
    row = lifecycle.ACTIONS[action]
    user = user_with(django_user_model, VIEW[row.subject], row.permission, name="allowed")
    user.email = PROOF["to"][0]  # a staff user's own address: where proofs may go
    user.save()
    if row.subject == "task":
        user.groups.add(obj.group)
    return user


def refused_user(django_user_model, action, obj):
    row = lifecycle.ACTIONS[action]
    others = [p for p in TABLE_PERMISSIONS if p != row.permission]
    user = user_with(django_user_model, VIEW[row.subject], *others, name="refused")
    if row.subject == "task":
        user.groups.add(obj.group)
    return user


def state_of(obj):
    return type(obj).objects.get(pk=obj.pk).status


@pytest.mark.parametrize("action", sorted(ROWS))
def test_api_enforces_the_row(action, schema, django_user_model, redis_clean):
    obj = setup(schema, action)
    before = state_of(obj)
    refused = call_api(api(refused_user(django_user_model, action, obj)), action, obj, schema)
    assert refused.status_code == 403, refused.content
    needed = lifecycle.ACTIONS[action].permission
    assert refused.json()["detail"].endswith(f"needs {needed}")
    assert state_of(obj) == before
    done = call_api(api(allowed_user(django_user_model, action, obj)), action, obj, schema)
    assert done.status_code in (200, 201, 202), done.content


@pytest.mark.parametrize("action", sorted(a for a, row in ROWS.items() if row[2]))
def test_api_refuses_the_wrong_state_with_409(action, schema, django_user_model, redis_clean):
    wrong = campaign_in(schema, ROWS[action][2])
    user = allowed_user(django_user_model, action, wrong)
    response = call_api(api(user), action, wrong, schema)
    assert response.status_code == 409, response.content
    assert f"that is {wrong.status}" in response.json()["detail"]


def _admin_post(client, action, obj):
    if action == "stop_run":
        return client.post(reverse("admin:campaigns_run_stop", args=[obj.pk]), follow=True)
    if action in ("decide_task", "confirm_send"):
        url = reverse("admin:campaigns_humantask_decide", args=[obj.pk])
        return client.post(url, {"decision": "approve"}, follow=True)
    if action == "assign_task":
        url = reverse("admin:campaigns_humantask_assign", args=[obj.pk])
        return client.post(url, {"assignee": ""}, follow=True)
    url = reverse("admin:campaigns_campaign_lifecycle", args=[obj.pk, action])
    if action == "send_proof":
        form = {**PROOF, "to": ",".join(PROOF["to"])}
        return client.post(url, form, follow=True)
    return client.post(url, follow=True)


def _buttons(client, obj):
    page = client.get(reverse("admin:campaigns_campaign_change", args=[obj.pk]))
    assert page.status_code == 200
    offered = {a.name for a in lifecycle.TABLE if f'data-action="{a.name}"' in page.text}
    if '"canTestRun": true' in page.text:  # the canvas's toolbar draws the Test run button
        offered.add("test_run")
    return offered


ADMIN_ACTIONS = sorted(a for a in ROWS if a != "edit")


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_admin_enforces_the_row(action, schema, client, django_user_model, redis_clean):
    obj = setup(schema, action)
    before = state_of(obj)
    subject = lifecycle.ACTIONS[action].subject
    client.force_login(refused_user(django_user_model, action, obj))
    if subject == "campaign":
        assert action not in _buttons(client, obj)  # not offered
    response = _admin_post(client, action, obj)
    text = " ".join(str(m) for m in response.context["messages"])
    assert f"needs {lifecycle.ACTIONS[action].permission}" in text
    assert state_of(obj) == before
    client.force_login(allowed_user(django_user_model, action, obj))
    if subject == "campaign":
        assert action in _buttons(client, obj)
    response = _admin_post(client, action, obj)
    messages = [m for m in response.context["messages"] if m.level_tag == "success"]
    assert messages, [str(m) for m in response.context["messages"]]


def test_admin_edit_needs_change_campaign(schema, client, django_user_model):
    campaign = campaign_in(schema, "draft")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    client.force_login(user_with(django_user_model, "campaigns.view_campaign", name="viewer"))
    page = client.get(url)
    assert 'name="transitions-0-port"' not in page.text  # read-only for a viewer
    client.force_login(
        user_with(
            django_user_model, "campaigns.view_campaign", "campaigns.change_campaign", name="ed"
        )
    )
    assert 'name="transitions-0-port"' in client.get(url).text


def test_a_running_run_is_stoppable_only_by_an_operator(schema, django_user_model, redis_clean):
    run = setup(schema, "stop_run")
    assert Run.objects.get(pk=run.pk).status in lifecycle.RUN_GOING
    viewer = user_with(django_user_model, "campaigns.view_run", name="viewer")
    assert not lifecycle.available(run, viewer, "run")
    operator = user_with(
        django_user_model, "campaigns.view_run", "campaigns.operate_campaign", name="op"
    )
    assert [a.name for a in lifecycle.available(run, operator, "run")] == ["stop_run"]
    assert Campaign.objects.filter(status=CampaignStatus.DRAFT).exists()
