"""Approval policies (issue 14): managed at policies/ and in the admin under their own codename,
bad input refused at its path; each condition decides when publishing needs sign-off."""

import pytest

from campaigns import definitions, policies, services
from campaigns.models import ApprovalPolicy
from config.access import SYSTEM
from config.audit import describe, entries
from tests.campaigns.conftest import final_run
from tests.campaigns.governance import created, mailing, policy
from tests.conftest import member_of
from tests.conftest import token_client as api

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_policies_are_read_by_viewers_and_managed_by_administrators(roles):
    viewer, admin = member_of(roles["Viewer"], "vera"), member_of(roles["Administrator"], "ada")
    body = {"name": "Big sends", "condition": "audience_over", "threshold": 1000, "approvals": 2,
            "group": "Approver", "expires_in": "2d"}  # fmt: skip
    refused = api(viewer).post("/api/policies/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Managing approval policies needs campaigns.manage_policies"
    made = api(admin).post("/api/policies/", body, format="json")
    assert made.status_code == 201, made.content
    assert made.json() == {"id": made.json()["id"], "description": "", "active": True, **body}
    listed = api(viewer).get("/api/policies/").json()["results"]
    assert [p["name"] for p in listed] == ["Big sends"]
    url = f"/api/policies/{made.json()['id']}/"
    changed = api(admin).patch(url, {"approvals": 1, "active": False}, format="json")
    assert (changed.json()["approvals"], changed.json()["active"]) == (1, False)
    entry = describe(entries(action="policy_saved").first())
    assert (entry["before"]["approvals"], entry["after"]["approvals"]) == (2, 1)
    assert api(viewer).delete(url).status_code == 403
    assert api(admin).delete(url).status_code == 204
    assert not ApprovalPolicy.objects.exists()


@pytest.mark.parametrize(
    "change,path",
    [
        ({"threshold": None}, "threshold"),
        ({"condition": "always"}, "threshold"),  # a threshold only for audience_over
        ({"condition": "sometimes"}, "condition"),
        ({"approvals": 3}, "approvals"),
        ({"group": "Nobody"}, "group"),
        ({"expires_in": "soon"}, "expires_in"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_policies_are_refused_at_their_path(roles, change, path):
    admin = member_of(roles["Administrator"], "ada")
    body = {
        "name": "p",
        "condition": "audience_over",
        "threshold": 5,
        "group": "Approver",
        **change,
    }
    response = api(admin).post("/api/policies/", body, format="json")
    assert response.status_code == 400
    assert path in [e["path"] for e in response.json()["errors"]]
    assert not ApprovalPolicy.objects.exists()


def test_the_admin_puts_policy_errors_beside_their_field(roles, client):
    client.force_login(member_of(roles["Administrator"], "ada"))
    page = client.post(
        "/admin/campaigns/approvalpolicy/add/",
        {"name": "Big", "condition": "audience_over", "approvals": "1",
         "group": roles["Approver"].pk, "expires_in": "", "active": "on"},
    )  # fmt: skip
    assert page.status_code == 200
    assert page.context["adminform"].form.errors["threshold"] == [
        "the audience count N, a whole number from 0"
    ]
    client.force_login(member_of(roles["Approver"], "ann"))
    assert client.get("/admin/campaigns/approvalpolicy/add/").status_code == 403


def test_marketing_channel_counts_the_category(schema, roles):
    policy(roles["Approver"], condition="marketing_channel")
    document = mailing(schema)
    document["activities"][1]["category"] = "transactional"
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    assert policies.applicable(campaign, definitions.export(campaign)) == []
    document["activities"][1]["category"] = "marketing"
    services.replace_definition(campaign=campaign, document=document, user=SYSTEM)
    ((_policy, reason),) = policies.applicable(campaign, definitions.export(campaign))
    assert reason == "activity mail sends marketing notice"


@pytest.mark.workers
def test_audience_over_counts_only_a_test_run_with_the_launch_variables(schema, roles, engine):
    engine.worker()
    over = policy(roles["Approver"], condition="audience_over", threshold=10)
    document = mailing(schema)
    document["variables"] = [{"name": "country", "type": "string", "default": "FR"}]
    document["activities"][0]["where"] = {"field": "country", "op": "eq", "var": "country"}
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    reasons = lambda: [r for _p, r in policies.applicable(campaign, definitions.export(campaign))]  # noqa: E731
    assert "is unknown" in reasons()[0]  # no test run yet
    final_run(services.test_run(campaign=campaign, user=SYSTEM, variables={"country": "DE"}))
    assert "is unknown" in reasons()[0]  # 5 Germans, but not the variables launches use
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert reasons() == [f"test run {run.pk} counted 15 on aud.out, above 10"]
    over.threshold = 15
    over.save()
    assert reasons() == []  # 15 is not above 15
    document["activities"][0]["where"] = {"field": "points", "op": "gt", "value": 0}
    services.replace_definition(campaign=campaign, document=document, user=SYSTEM)
    assert "is unknown" in reasons()[0]  # that test run was of another definition


def test_content_changed_compares_channel_content_with_the_last_approved_version(schema, roles):
    campaign = created(schema, schedule={"frequency": "signal"})
    policy(roles["Approver"], condition="content_changed")
    approver = member_of(roles["Approver"], "ann")
    services.publish(campaign=campaign, user=SYSTEM)
    services.decide_task(task=campaign.tasks.get(), user=approver, decision="approved")
    services.revise(campaign=campaign, user=SYSTEM)
    document = definitions.export(campaign)
    document["activities"][0]["where"] = {"and": []}  # the audience, not the content
    services.replace_definition(campaign=campaign, document=document, user=SYSTEM)
    assert policies.applicable(campaign, definitions.export(campaign)) == []
    document["activities"][1]["category"] = "transactional"  # a category change is content
    services.replace_definition(campaign=campaign, document=document, user=SYSTEM)
    ((_policy, reason),) = policies.applicable(campaign, definitions.export(campaign))
    assert reason == "the content of mail changed since version 1"
