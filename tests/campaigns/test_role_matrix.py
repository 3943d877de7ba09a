"""The role matrix (issue 14): every role of ``campaigns.roles`` times every action, through the
API and through the admin, with real non-superuser staff users whose only permissions come from
their one role group. ``MAY`` below is the issue's table written out, independently of
``campaigns.roles``: what each role may do; everything else is refused with 403 naming the
missing permission (API) or an error message (admin), and the buttons are not offered."""

import pytest
from django.urls import reverse

from audiences.models import Schema
from audiences.services.schemas import delete_schema
from campaigns import lifecycle
from campaigns import roles as role_table
from campaigns.models import HumanTask
from config.access import SYSTEM
from tests.campaigns import test_permission_matrix as matrix
from tests.conftest import member_of
from tests.conftest import token_client as api

pytestmark = [pytest.mark.django_db(transaction=True)]
redis_clean = matrix.redis_clean  # Redis flushed after (runs enqueue jobs)

ACTIONS = sorted(matrix.ROWS)
EDITING = {"edit", "test_run", "revise", "discard_revision", "duplicate"}
PUBLISHING = {"publish", "pause", "resume", "stop", "close", "archive", "trigger", "stop_run"}
MAY = {
    "Viewer": set(),
    "Editor": EDITING | {"send_proof"},
    "Publisher": PUBLISHING,
    "Approver": {"decide_task", "assign_task", "confirm_send"},
    "Data manager": set(),
    "Administrator": set(ACTIONS),
}


def test_the_roles_are_the_issues_six():
    assert set(MAY) == set(role_table.ROLES)


def subject(schema, action, group):
    if lifecycle.ACTIONS[action].subject == "task":
        kind = "send_confirmation" if action == "confirm_send" else "approval"
        return HumanTask.objects.create(title="Go?", group=group, kind=kind)  # the role's group
    return matrix.setup(schema, action)


def admin_outcome(client, action, obj, schema):
    """(allowed, text) of doing ``action`` in the admin: a success message, or the refusal."""
    if action == "edit":
        url = reverse("admin:campaigns_campaign_change", args=[obj.pk])
        return 'name="transitions-0-port"' in client.get(url).text, ""
    if lifecycle.ACTIONS[action].subject == "campaign":
        offered = action in matrix._buttons(client, obj)
    else:
        offered = None
    response = matrix._admin_post(client, action, obj)
    messages = list(response.context["messages"])
    succeeded = any(m.level_tag == "success" for m in messages)
    if offered is not None:
        assert offered == succeeded, f"{action}: button shown {offered}, succeeded {succeeded}"
    return succeeded, " ".join(str(m) for m in messages)


CASES = [(role, action) for role in MAY for action in ACTIONS]


@pytest.mark.parametrize("role,action", CASES, ids=[f"{r}-{a}" for r, a in CASES])
def test_each_role_may_do_exactly_its_actions(role, action, schema, roles, client, redis_clean):
    name = role.lower().replace(" ", "_")
    user = member_of(roles[role], name)
    user.email = matrix.PROOF["to"][0]  # a staff user's own address: where proofs may go
    user.save()
    needed = lifecycle.ACTIONS[action].permission
    may = action in MAY[role]

    obj = subject(schema, action, roles[role])
    response = matrix.call_api(api(user), action, obj, schema)
    if may:
        assert response.status_code in (200, 201, 202), response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["detail"].endswith(f"needs {needed}")

    client.force_login(user)
    obj = subject(schema, action, roles[role])
    allowed, text = admin_outcome(client, action, obj, schema)
    assert allowed == may, text
    if not may and action != "edit":
        assert f"needs {needed}" in text


def _records(client, schema):
    return client.get(f"/api/schemas/{schema.name}/records/")


DATA_ACTIONS = {
    "read records": (_records, {"Approver", "Data manager", "Administrator"}),
    "write records": (
        lambda c, s: c.post(
            f"/api/schemas/{s.name}/records/",
            {"records": [{"customer_id": "c1", "email": "new@example.com"}]},
            format="json",
        ),
        {"Data manager", "Administrator"},
    ),
    "define a schema": (
        lambda c, s: c.post(
            "/api/schemas/",
            {
                "name": f"{s.name}_x",
                "primary_key": "k",
                "attributes": [{"name": "k", "type": "string"}],
            },
            format="json",
        ),
        {"Data manager", "Administrator"},
    ),
    "count an audience": (
        lambda c, s: c.post(
            "/api/audiences/count/", {"schema": s.name, "where": {"and": []}}, format="json"
        ),
        set(MAY),
    ),
    "manage policies": (
        lambda c, s: c.post(
            "/api/policies/",
            {"name": "Always", "condition": "always", "group": "Approver"},
            format="json",
        ),
        {"Administrator"},
    ),
    "read the audit trail": (lambda c, s: c.get("/api/audit/"), set(MAY)),
    "read campaigns": (lambda c, s: c.get("/api/campaigns/"), set(MAY)),
}
DATA_CASES = [(role, action) for role in MAY for action in DATA_ACTIONS]


@pytest.mark.parametrize("role,action", DATA_CASES, ids=[f"{r}-{a}" for r, a in DATA_CASES])
def test_each_role_reads_and_writes_what_its_row_says(role, action, schema, roles):
    call, who = DATA_ACTIONS[action]
    response = call(api(member_of(roles[role], "someone")), schema)
    if role in who:
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403, response.content
    made = Schema.objects.filter(name=f"{schema.name}_x").exists()
    assert made == (action == "define a schema" and role in who)
    if made:
        delete_schema(name=f"{schema.name}_x", confirm=True, user=SYSTEM)


def test_only_administrators_manage_users_and_roles_in_the_admin(roles, client):
    for role in MAY:
        client.force_login(member_of(roles[role], role.lower().replace(" ", "_")))
        page = client.get(f"/admin/auth/group/{roles['Editor'].pk}/change/")
        editable = page.status_code == 200 and 'name="_save"' in page.text
        assert editable == (role == "Administrator"), role
        users = client.get("/admin/auth/user/")
        assert (users.status_code == 200) == (role == "Administrator"), role
