"""Send confirmation (design 10, step 2): a human task for SEND_CONFIRMATION_GROUP shows the
final count and 3 samples; approve sends, reject or expiry cancel; the run waits without a
worker and says why."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from campaigns.engine import wakeups
from campaigns.models import ActivityRun, HumanTask, RunStatus
from channels.models import Delivery
from tests.channels.conftest import final_run, wait_for
from tests.channels.helpers import delivery_of, document, fates, publish
from tests.conftest import staff_with, token_client

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def confirmer():
    user = staff_with(
        "campaigns.view_humantask", "campaigns.confirm_send", "audiences.view_records", name="conf"
    )
    user.groups.add(Group.objects.get(name=settings.SEND_CONFIRMATION_GROUP))
    return user


def waiting_task(run):
    return wait_for(lambda: HumanTask.objects.filter(run=run, kind="send_confirmation").first(), 30)


def test_approve_sends_and_the_task_shows_count_and_samples(shop, smtp, senders):
    engine = senders(smtp=smtp)
    engine.worker()
    engine.tick()
    _campaign, run = publish(document(shop, send_confirmation=True))
    task = waiting_task(run)
    assert task.group.name == settings.SEND_CONFIRMATION_GROUP
    assert "20 recipients" in task.message
    wait_for(lambda: ActivityRun.objects.get(run=run, key="send").status == "waiting")
    assert smtp.messages == []
    client = token_client(confirmer())
    shown = client.get(f"/api/tasks/{task.pk}/").json()
    assert shown["delivery"]["staged"] == 20 and len(shown["delivery"]["samples"]) == 3
    assert shown["delivery"]["samples"][0]["subject"] == "Hello Ann1"
    answer = client.post(f"/api/tasks/{task.pk}/approve/", {"comment": "go"}, format="json")
    assert answer.status_code == 200, answer.content
    run = final_run(run, 60)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(smtp.messages) == 20 and fates(delivery_of(run)) == {"sent": 20}


def test_reject_cancels_the_activity_and_says_why(shop, smtp, senders):
    engine = senders(smtp=smtp)
    engine.worker()
    _campaign, run = publish(document(shop, send_confirmation=True))
    task = waiting_task(run)
    client = token_client(confirmer())
    answer = client.post(f"/api/tasks/{task.pk}/reject/", {"comment": "wrong offer"}, format="json")
    assert answer.status_code == 200, answer.content
    run = final_run(run, 60)
    send = run.activity_runs.get(key="send")
    assert (send.status, send.outputs) == ("cancelled", {})
    assert send.error == "cancelled: send confirmation rejected by conf: wrong offer"
    assert run.activity_runs.get(key="done").status == "skipped"
    assert run.status == RunStatus.SUCCEEDED
    assert smtp.messages == [] and fates(delivery_of(run)) == {"cancelled": 20}


def test_a_confirmation_expires_with_the_validity_window(shop, smtp, senders):
    engine = senders(smtp=smtp)
    engine.worker()
    _campaign, run = publish(document(shop, send_confirmation=True))
    task = waiting_task(run)
    ar = wait_for(lambda: ActivityRun.objects.filter(run=run, key="send", status="waiting").first())
    past = timezone.now() - datetime.timedelta(seconds=1)
    HumanTask.objects.filter(pk=task.pk).update(due_at=past)
    Delivery.objects.filter(run_id=run.pk).update(expires_at=past)
    assert wakeups.wake(ar.pk)  # the due time came (as the scheduled wake-up would)
    run = final_run(run, 60)
    send = run.activity_runs.get(key="send")
    assert send.status == "cancelled" and "expired" in send.error
    assert HumanTask.objects.get(pk=task.pk).status == "expired"
    assert fates(delivery_of(run)) == {"expired": 20} and smtp.messages == []


def test_confirming_needs_confirm_send_not_decide_task(shop, smtp, senders):
    engine = senders(smtp=smtp)
    engine.worker()
    _campaign, run = publish(document(shop, send_confirmation=True))
    task = waiting_task(run)
    decider = staff_with("campaigns.view_humantask", "campaigns.decide_task", name="decider")
    decider.groups.add(task.group)
    answer = token_client(decider).post(f"/api/tasks/{task.pk}/approve/", {}, format="json")
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Confirming a send needs campaigns.confirm_send"
    assert HumanTask.objects.get(pk=task.pk).status == "new"
