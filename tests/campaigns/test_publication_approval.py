"""Publishing under approval policies (issue 14), through the API with real non-superuser users in
their roles: the campaign waits in pending_approval; approval publishes it (numbered version,
schedule started); rejection returns it to draft with the comment; four eyes bound to the
definition's hash (the last changer cannot approve; a later edit voids the approval, a tidy-up
of positions and labels does not); two-approval policies need two distinct approvers."""

import pytest
from django.contrib.admin.models import LogEntry

from campaigns import definitions, services
from campaigns.models import Campaign, CampaignStatus, HumanTask, Run
from config.audit import describe, entries
from tests.campaigns.governance import created, edited, people, policy
from tests.conftest import member_of, staff_with
from tests.conftest import token_client as api

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(roles, engine):  # engine: Redis flushed after (publishing enqueues the run's jobs)
    return people(roles)


def publish(user, campaign):
    return api(user).post(f"/api/campaigns/{campaign.pk}/publish/")


def approve(user, task, comment="fine"):
    return api(user).post(f"/api/tasks/{task.pk}/approve/", {"comment": comment}, format="json")


def fresh(campaign):
    return Campaign.objects.get(pk=campaign.pk)


def test_an_always_policy_holds_the_publish_until_approved(schema, roles, team):
    policy(roles["Approver"])
    campaign = edited(
        created(schema), team["ed"], where={"field": "points", "op": "gt", "value": 0}
    )
    response = publish(team["pub"], campaign)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "pending_approval"
    assert body["version"] is None and "Waiting for approval by Approver" in body["status_note"]
    (task,) = HumanTask.objects.filter(pk__in=body["approval_tasks"])
    assert (task.kind, task.group, task.requested_by) == (
        "publication",
        roles["Approver"],
        team["pub"],
    )
    assert not Run.objects.filter(campaign=campaign).exists()  # nothing runs yet
    listed = api(team["ann"]).get("/api/tasks/?mine=true").json()["results"]
    assert [t["id"] for t in listed] == [task.pk]
    seen = api(team["ann"]).get(f"/api/tasks/{task.pk}/").json()
    assert seen["review"]["requested_by"] == "pub"
    assert [a["id"] for a in seen["review"]["graph"]["activities"]] == ["aud", "mail", "done"]
    assert seen["review"]["diff"]["against"] is None  # a first publication: everything is new
    assert {c["key"] for c in seen["review"]["diff"]["changes"] if c["change"] == "added"} >= {
        "aud", "mail", "done"
    }  # fmt: skip
    done = approve(team["ann"], task)
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["version"]) == ("done", 1)
    campaign = fresh(campaign)
    assert campaign.status == CampaignStatus.LIVE and campaign.status_note == ""
    run = Run.objects.get(campaign=campaign)  # asap: the schedule started the run
    assert (run.version.number, run.started_by) == (1, team["pub"])
    events = [describe(e)["event"] for e in entries(obj=campaign)]
    assert events[:2] == ["publish", "publication_requested"]
    assert describe(entries(obj=task, action="approve").get())["user"] == "ann"


def test_the_last_changer_cannot_approve(schema, roles, team):
    policy(roles["Approver"])
    campaign = created(schema)
    team["ann"].groups.add(roles["Editor"])  # an approver who edits too
    campaign = edited(campaign, team["ann"], where={"field": "country", "op": "eq", "value": "DE"})
    assert publish(team["pub"], campaign).status_code == 200
    task = HumanTask.objects.get(campaign=campaign)
    refused = approve(team["ann"], task)
    assert refused.status_code == 403
    assert "you (ann) last changed this definition (four eyes)" in refused.json()["detail"]
    assert fresh(campaign).status == CampaignStatus.PENDING_APPROVAL
    assigned = api(team["bob"]).post(f"/api/tasks/{task.pk}/assign/", {"assignee": "ann"}, "json")
    assert assigned.status_code == 409 and "cannot approve it" in assigned.json()["detail"]
    assert approve(team["bob"], task).status_code == 200
    assert fresh(campaign).status == CampaignStatus.LIVE


def test_four_eyes_holds_for_superusers_too(schema, roles, team, django_user_model):
    policy(roles["Approver"])
    boss = django_user_model.objects.create_superuser("boss")
    campaign = edited(created(schema), boss, where={"field": "points", "op": "gt", "value": 500})
    assert publish(boss, campaign).status_code == 200
    refused = approve(boss, HumanTask.objects.get(campaign=campaign))
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"]


def test_a_later_edit_voids_the_approval(schema, roles, team):
    policy(roles["Approver"], approvals=2)
    campaign = created(schema)
    assert publish(team["pub"], campaign).status_code == 200
    task = HumanTask.objects.get(campaign=campaign)
    assert approve(team["ann"], task).json()["status"] == "new"  # 1 of 2
    response = api(team["ed"]).put(
        f"/api/campaigns/{campaign.pk}/",
        {**definitions.export(campaign), "description": "now for everyone"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft" and body["approval_tasks"] == []
    assert body["status_note"] == (
        "Approval voided: ed changed the definition after it was sent for approval "
        "(already approved by ann)."
    )
    task.refresh_from_db()
    assert task.status == "cancelled" and task.comment == body["status_note"]
    late = approve(team["bob"], task)
    assert late.status_code == 409 and "cancelled" in late.json()["detail"]
    assert not fresh(campaign).versions.filter(number__isnull=False).exists()


def test_tidying_the_canvas_voids_nothing(schema, roles, team):
    policy(roles["Approver"])
    campaign = created(schema)
    assert publish(team["pub"], campaign).status_code == 200
    campaign = edited(fresh(campaign), team["ed"], position=[300, 120], label="Everyone in FR")
    assert campaign.status == CampaignStatus.PENDING_APPROVAL
    assert campaign.changed_by is None  # moving and relabelling is no change of the definition
    task = HumanTask.objects.get(campaign=campaign)
    assert task.status == "new"
    assert approve(team["ann"], task).status_code == 200
    published = fresh(campaign).versions.get(number=1).definition
    assert published["activities"][0]["label"] == "Everyone in FR"  # the tidy-up is published


def test_two_approvals_need_two_distinct_members_of_the_group(schema, roles, team):
    policy(roles["Approver"], approvals=2)
    campaign = created(schema)
    assert publish(team["pub"], campaign).status_code == 200
    task = HumanTask.objects.get(campaign=campaign)
    first = approve(team["ann"], task)
    assert first.status_code == 200 and first.json()["approvals"][0]["user"] == "ann"
    twice = approve(team["ann"], task)
    assert twice.status_code == 409 and "already approved" in twice.json()["detail"]
    outsider = staff_with("campaigns.view_humantask", "campaigns.decide_task", name="out")
    stranger = approve(outsider, task)
    assert stranger.status_code == 403 and "only members of Approver" in stranger.json()["detail"]
    assert fresh(campaign).status == CampaignStatus.PENDING_APPROVAL
    second = approve(team["bob"], task)
    assert (second.json()["status"], second.json()["version"]) == ("done", 1)
    assert [a["user"] for a in second.json()["approvals"]] == ["ann", "bob"]
    assert fresh(campaign).status == CampaignStatus.LIVE


def test_a_rejection_returns_the_campaign_to_draft_with_the_comment(schema, roles, team, client):
    policy(roles["Approver"])
    campaign = created(schema)
    assert publish(team["pub"], campaign).status_code == 200
    task = HumanTask.objects.get(campaign=campaign)
    rejected = api(team["ann"]).post(
        f"/api/tasks/{task.pk}/reject/", {"comment": "The subject is too loud."}, format="json"
    )
    assert rejected.status_code == 200 and rejected.json()["decision"] == "rejected"
    campaign = fresh(campaign)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.status_note.startswith("Rejected by ann on ")
    assert campaign.status_note.endswith(": The subject is too loud.")
    client.force_login(member_of(roles["Viewer"], "vera"))
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert "The subject is too loud." in page.text  # shown on the campaign page


def test_policies_each_ask_their_own_group_and_all_must_approve(schema, roles, team):
    legal = roles["Data manager"]  # any group can be a policy's
    policy(roles["Approver"])
    policy(legal, condition="marketing_channel")
    lawyer = member_of(roles["Approver"], "lee", group=legal)
    campaign = created(schema)
    assert publish(team["pub"], campaign).status_code == 200
    tasks = {t.group.name: t for t in HumanTask.objects.filter(campaign=campaign)}
    assert set(tasks) == {"Approver", "Data manager"}
    assert tasks["Data manager"].reason == "activity mail sends marketing notice"
    assert approve(team["ann"], tasks["Approver"]).status_code == 200
    campaign = fresh(campaign)
    assert campaign.status == CampaignStatus.PENDING_APPROVAL
    assert "still waiting for Data manager" in campaign.status_note
    assert approve(lawyer, tasks["Data manager"]).status_code == 200
    assert fresh(campaign).status == CampaignStatus.LIVE
    assert set(
        HumanTask.objects.filter(campaign=campaign).values_list("version__number", flat=True)
    ) == {1}


def test_a_revision_goes_through_the_policies_and_numbers_the_next_version(schema, roles, team):
    campaign = created(schema, schedule={"frequency": "signal"})
    services.publish(campaign=campaign, user=team["pub"])  # no policy yet: version 1
    policy(roles["Approver"], condition="content_changed")
    assert api(team["ed"]).post(f"/api/campaigns/{campaign.pk}/revise/").status_code == 200
    document = definitions.export(fresh(campaign))
    document["activities"][1]["subject"] = "Hello {{ profile.email }}"
    assert (
        api(team["ed"]).put(f"/api/campaigns/{campaign.pk}/", document, format="json").status_code
        == 200
    )
    body = publish(team["pub"], campaign).json()
    assert (body["status"], body["version"], body["revision_open"]) == ("live", 1, True)
    task = HumanTask.objects.get(pk=body["approval_tasks"][0])
    assert task.reason == "the content of mail changed and was never approved"
    change = api(team["ann"]).get(f"/api/tasks/{task.pk}/").json()["review"]["diff"]
    assert change["against"] == 1
    assert [(c["key"], c["field"], c["after"]) for c in change["changes"]] == [
        ("mail", "subject", "Hello {{ profile.email }}")
    ]
    assert approve(team["ann"], task).json()["version"] == 2
    campaign = fresh(campaign)
    assert (campaign.status, campaign.revision_opened_at) == (CampaignStatus.LIVE, None)
    assert LogEntry.objects.filter(object_id=str(campaign.pk)).count() >= 4
