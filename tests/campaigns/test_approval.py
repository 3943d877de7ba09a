"""The approval activity in live runs, decided through the API, with real worker processes."""

import pytest
from django.contrib.auth.models import Group

from campaigns import services
from campaigns.models import ActivityRun, HumanTask, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run, wait_for

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def approval_campaign(schema, name, expires_in="1h"):
    return {
        "name": name,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name},
            {
                "id": "ok",
                "type": "approval",
                "group": "approvers",
                "message": "Send it?",
                "expires_in": expires_in,
            },
            {"id": "yes", "type": "end"},
            {"id": "no", "type": "end"},
            {"id": "late", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "ok"},
            {"from": "ok", "port": "approved", "to": "yes"},
            {"from": "ok", "port": "rejected", "to": "no"},
            {"from": "ok", "port": "expired", "to": "late"},
        ],
    }


def statuses(run):
    return dict(run.activity_runs.values_list("key", "status"))


@pytest.fixture
def approvers(transactional_db):
    return Group.objects.create(name="approvers")


def _published_run(schema, name, expires_in="1h"):
    campaign = services.create_from_definition(
        document=approval_campaign(schema, name, expires_in), user=SYSTEM
    )
    assert services.validation_errors(campaign) == []
    services.publish(campaign=campaign, user=SYSTEM)
    run = campaign.runs.get()
    wait_for(lambda: HumanTask.objects.filter(run=run, status="new").exists(), timeout=30)
    return run, HumanTask.objects.get(run=run)


@pytest.mark.parametrize("decision,port", [("approve", "yes"), ("reject", "no")])
def test_decided_through_the_api(schema, engine, approvers, api_client, decision, port):
    engine.worker()
    engine.tick()
    run, task = _published_run(schema, f"Approval {decision}")
    assert ActivityRun.objects.get(run=run, key="ok").status == "waiting"
    listed = api_client.get("/api/tasks/?status=new").json()["results"]
    assert [t["id"] for t in listed] == [task.pk]
    graph = api_client.get(f"/api/tasks/{task.pk}/").json()["review"]["graph"]
    assert graph["run"] == run.pk  # what the approver sees: the run waiting on the task
    assert {
        (t["from"], t["to"], t["count"]) for t in graph["transitions"] if t["from"] == "aud"
    } == {("aud", "ok", 20)}
    response = api_client.post(f"/api/tasks/{task.pk}/{decision}/", {"comment": "fine"}, "json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    run = final_run(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    got = statuses(run)
    assert got[port] == "succeeded"
    assert {k for k, s in got.items() if s == "skipped"} == {"yes", "no", "late"} - {port}
    again = api_client.post(f"/api/tasks/{task.pk}/approve/", {}, "json")
    assert again.status_code == 409


def test_left_to_expire(schema, engine, approvers):
    engine.worker()
    engine.tick()
    run, task = _published_run(schema, "Approval expires", expires_in="3s")
    run = final_run(run, timeout=40)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert statuses(run)["late"] == "succeeded"
    assert statuses(run)["yes"] == statuses(run)["no"] == "skipped"
    task.refresh_from_db()
    assert task.status == "expired"


def test_test_mode_takes_approved_without_a_task(schema, engine, approvers):
    engine.worker()
    campaign = services.create_from_definition(
        document=approval_campaign(schema, "Approval test"), user=SYSTEM
    )
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert statuses(run)["yes"] == "succeeded"
    assert not HumanTask.objects.exists()
