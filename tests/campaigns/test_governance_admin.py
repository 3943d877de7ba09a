"""The governance pages of the admin (issue 14) through Django's test client, with users in their
roles: "My tasks" and its header badge, the task page (what the approver sees, the decision and
the assignment) and the side-by-side comparison of versions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns import definitions, services
from campaigns.models import Campaign, CampaignStatus, HumanTask
from config.access import SYSTEM
from tests.campaigns.conftest import final_run
from tests.campaigns.governance import created, people, policy
from tests.campaigns.test_admin import carried
from tests.conftest import member_of

pytestmark = [pytest.mark.django_db(transaction=True)]


def badge(page):
    text = page.text.split('class="my-tasks-link"', 1)[1]
    return int(text.split('class="badge', 1)[1].split(">", 1)[1].split("<", 1)[0])


def test_my_tasks_lists_the_open_tasks_of_my_groups_and_the_header_counts_them(roles, client):
    ann = member_of(roles["Approver"], "ann")
    mine = HumanTask.objects.create(title="Approve the spring mailing", group=roles["Approver"])
    given = HumanTask.objects.create(
        title="A task given to ann", group=roles["Editor"], assignee=ann
    )
    HumanTask.objects.create(title="Someone else's", group=roles["Editor"])
    HumanTask.objects.create(title="Done already", group=roles["Approver"], status="done")
    client.force_login(ann)
    assert badge(client.get("/admin/")) == 2
    page = client.get(reverse("admin:campaigns_humantask_mine"))
    assert [task.pk for task, _link in page.context["rows"]] == [mine.pk, given.pk]
    assert "Approve the spring mailing" in page.text and "Someone else" not in page.text
    client.force_login(member_of(roles["Viewer"], "vera"))
    assert badge(client.get("/admin/")) == 0
    assert "Nothing waits for you." in client.get(reverse("admin:campaigns_humantask_mine")).text


@pytest.mark.workers
def test_the_task_page_shows_the_graph_samples_diff_and_who_asked(schema, roles, engine, client):
    engine.worker()
    team = people(roles)
    policy(roles["Approver"])
    campaign = created(schema)
    final_run(services.test_run(campaign=campaign, user=team["ed"]))
    services.publish(campaign=campaign, user=team["pub"])
    task = HumanTask.objects.get(campaign=campaign)
    client.force_login(team["ann"])
    page = client.get(reverse("admin:campaigns_humantask_change", args=[task.pk]))
    assert page.status_code == 200
    text = page.text
    assert "Asked by <strong>pub</strong>" in text
    assert carried(text, "aud", "out") == 15  # the canvas shows the test run's counts
    assert text.count('class="sample-recipient"') == 3
    assert "Spring is here." in text and "as written (not rendered)" in text
    assert 'class="version-diff"' in text and "activity <strong>mail</strong> added" in text
    assert 'value="approve"' in text and 'class="module aligned task-assign"' in text
    url = reverse("admin:campaigns_humantask_decide", args=[task.pk])
    done = client.post(url, {"decision": "approve", "comment": "Looks right."}, follow=True)
    assert f"Task {task.pk} approved." in [str(m) for m in done.context["messages"]]
    # Published: its live run started (and, the engine being fast, may already have completed it).
    status = Campaign.objects.get(pk=campaign.pk).status
    assert status in (CampaignStatus.LIVE, CampaignStatus.COMPLETED)
    assert campaign.runs.filter(test=False).exists()
    assert 'value="approve"' not in done.text  # decided: no buttons any more


def test_a_viewer_sees_the_task_but_no_decision_or_assignment(roles, client):
    legal = Group.objects.create(name="Legal")  # a group without permissions of its own
    task = HumanTask.objects.create(title="Go?", group=legal)
    viewer = member_of(roles["Viewer"], "vera", group=legal)
    client.force_login(viewer)
    page = client.get(reverse("admin:campaigns_humantask_change", args=[task.pk]))
    assert page.status_code == 200
    assert 'value="approve"' not in page.text and "task-assign" not in page.text


def test_assigning_and_reassigning_in_the_admin(roles, client):
    team = people(roles)
    task = HumanTask.objects.create(title="Go?", group=roles["Approver"])
    client.force_login(team["ann"])
    url = reverse("admin:campaigns_humantask_assign", args=[task.pk])
    client.post(url, {"assignee": ""})
    task.refresh_from_db()
    assert (task.status, task.assignee) == ("assigned", team["ann"])
    page = client.post(url, {"assignee": "bob"}, follow=True)
    assert f"Task {task.pk} assigned to bob." in [str(m) for m in page.context["messages"]]
    refused = client.post(url, {"assignee": "ed"}, follow=True)  # not an approver
    assert "ed is not an active member of Approver" in str(list(refused.context["messages"])[0])
    task.refresh_from_db()
    assert task.assignee == team["bob"]


def test_versions_are_listed_and_compared_side_by_side(schema, roles, client):
    campaign = created(schema, schedule={"frequency": "signal"})
    services.publish(campaign=campaign, user=SYSTEM)
    services.revise(campaign=campaign, user=SYSTEM)
    document = definitions.export(campaign)
    document["activities"][0]["where"]["value"] = "DE"
    document["activities"][0]["position"] = [500, 40]  # moved: not a change
    document["activities"].append({"id": "extra", "type": "end"})
    document["transitions"].append({"from": "mail", "to": "extra"})
    services.replace_definition(campaign=campaign, document=document, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    client.force_login(member_of(roles["Viewer"], "vera"))
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.text.count('class="version-row"') == 2
    url = reverse("admin:campaigns_campaign_versions", args=[campaign.pk])
    compared = client.get(f"{url}?a=1&b=2")
    assert compared.status_code == 200
    text = compared.text
    assert "<th>version 1</th><th>version 2</th>" in text
    assert "activity <strong>aud</strong>: option <code>where</code> changed" in text
    assert "activity <strong>extra</strong> added" in text
    assert "transition <strong>mail.out -&gt; extra</strong> added" in text
    assert "position" not in compared.context["diff_html"]
    assert client.get(f"{url}?a=1&b=9").status_code == 404
