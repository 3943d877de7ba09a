"""Expiry of human tasks by the tick (issue 14), with real worker and tick processes: an approval
activity's task past due expires and its activity takes the ``on_expiry`` port; a publication
request past its policy's ``expires_in`` returns the campaign to draft, saying why."""

import time

import pytest

from campaigns import services
from campaigns.models import ActivityRun, Campaign, CampaignStatus, HumanTask, RunStatus
from config.access import SYSTEM
from config.audit import describe, entries
from tests.campaigns.conftest import final_run, wait_for
from tests.campaigns.governance import created, policy
from tests.campaigns.test_approval import approval_campaign, statuses

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def test_the_tick_expires_an_approval_and_its_activity_takes_on_expiry(
    schema,
    engine,
    roles,
    staff_user,  # a superuser: the system's entries are attributed to one
):
    # Only the tick can wake the activity here: its own delayed wake-up is lost with Redis
    # below, and the reconciler's generic re-enqueue waits RECONCILE_AFTER_SECONDS (30 s).
    engine.env["RECONCILE_AFTER_SECONDS"] = "30"
    engine.worker()
    engine.tick()
    document = approval_campaign(schema, "Expiring approval", expires_in="3s")
    document["activities"][1].update(group="Approver", on_expiry="rejected")
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    run = campaign.runs.get()
    wait_for(lambda: ActivityRun.objects.filter(run=run, key="ok", status="waiting").exists())
    time.sleep(0.5)  # the delayed wake-up is enqueued on commit, then lost:
    engine.flush_redis()
    task = HumanTask.objects.get(run=run)
    run = final_run(run, timeout=25)
    assert run.status == RunStatus.SUCCEEDED, run.error
    got = statuses(run)
    assert got["no"] == "succeeded"  # on_expiry: rejected
    assert got["yes"] == got["late"] == "skipped"
    task.refresh_from_db()
    assert task.status == "expired"
    entry = describe(entries(obj=task, action="task_expired").get())
    assert (entry["by"], entry["before"], entry["after"]) == (
        "system", {"status": "new"}, {"status": "expired"}
    )  # fmt: skip


def test_the_tick_expires_a_publication_request(schema, engine, roles):
    engine.tick()
    policy(roles["Approver"], expires_in="2s")
    campaign = created(schema)
    services.publish(campaign=campaign, user=SYSTEM)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PENDING_APPROVAL
    task = HumanTask.objects.get(campaign=campaign)
    assert task.due_at is not None
    campaign = wait_for(
        lambda: (c := Campaign.objects.get(pk=campaign.pk)).status == CampaignStatus.DRAFT and c,
        timeout=30,
    )
    assert campaign.status_note == (
        f"Approval request expired: nobody of Approver decided in time (task {task.pk})."
    )
    task.refresh_from_db()
    assert task.status == "expired"
    assert not campaign.runs.exists()
