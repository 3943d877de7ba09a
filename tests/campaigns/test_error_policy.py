"""Error policy (design 5.4), stop, pause and resume, with real worker processes."""

import time

import pytest

from campaigns import services
from campaigns.models import ActivityRun, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run, wait_for

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def failing(schema, name, policy):
    return {
        "name": name,
        "error_policy": policy,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name},
            {"id": "fork", "type": "fork"},
            {"id": "bad", "type": "boom"},
            {"id": "after_bad", "type": "end"},
            {"id": "good", "type": "slow", "seconds": 1},
            {"id": "after_good", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "fork"},
            {"from": "fork", "to": "bad"},
            {"from": "bad", "to": "after_bad"},
            {"from": "fork", "to": "good"},
            {"from": "good", "to": "after_good"},
        ],
    }


def test_retries_then_stop_fails_the_run(schema, engine):
    engine.worker()
    policy = {"on_error": "stop", "retries": 1, "retry_delay": "1s"}
    campaign = services.create_from_definition(
        document=failing(schema, "Stops", policy), user=SYSTEM
    )
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.FAILED
    bad = ActivityRun.objects.get(run=run, key="bad")
    assert (bad.status, bad.attempt) == ("failed", 2)
    assert "RuntimeError: boom" in bad.error and "Traceback" in bad.traceback
    assert run.error.startswith("bad: RuntimeError")


def test_ignore_skips_what_depends_on_the_failure(schema, engine):
    engine.worker()
    policy = {"on_error": "ignore", "retries": 0}
    campaign = services.create_from_definition(
        document=failing(schema, "Ignores", policy), user=SYSTEM
    )
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED
    statuses = dict(run.activity_runs.values_list("key", "status"))
    assert statuses["bad"] == "failed"
    assert statuses["after_bad"] == "skipped"
    assert statuses["after_good"] == "succeeded"


def test_stop_cancels_pending_and_waiting(schema, engine, api_client):
    engine.worker()
    document = failing(schema, "Stopped", {})
    document["activities"][2] = {"id": "bad", "type": "wait", "duration": "1h"}
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    run = campaign.runs.get()
    wait_for(lambda: ActivityRun.objects.filter(run=run, key="bad", status="waiting").exists())
    response = api_client.post(f"/api/runs/{run.pk}/stop/")
    assert response.status_code == 200, response.content
    run = final_run(run)
    assert run.status == RunStatus.STOPPED
    assert ActivityRun.objects.get(run=run, key="bad").status == "cancelled"
    assert ActivityRun.objects.get(run=run, key="after_bad").status == "cancelled"
    assert api_client.post(f"/api/runs/{run.pk}/stop/").status_code == 409


def test_pause_lets_the_step_finish_and_resume_goes_on(schema, engine):
    engine.worker()
    document = failing(schema, "Paused", {})
    document["activities"][2] = {"id": "bad", "type": "slow", "seconds": 3}
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    run = campaign.runs.get()
    wait_for(lambda: ActivityRun.objects.filter(run=run, key="bad", status="running").exists())
    services.pause(campaign=campaign, user=SYSTEM)
    wait_for(lambda: ActivityRun.objects.filter(run=run, key="bad", status="succeeded").exists())
    time.sleep(2)
    after = ActivityRun.objects.get(run=run, key="after_bad")
    assert (after.status, after.attempt) == ("pending", 0)
    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    services.resume(campaign=campaign, user=SYSTEM)
    run = final_run(run)
    assert run.status == RunStatus.SUCCEEDED
    campaign.refresh_from_db()
    assert campaign.status == "completed"
