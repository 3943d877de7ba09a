"""Notifications of the task queue (issue 14) received by a real SMTP server (aiosmtpd on
loopback): the approvers of the group get ``task_created`` when a publication waits for them, the
requester gets ``task_decided``, and the tick (a real ``campaigns_tick`` process) reminds the
approvers once before the task expires, recording it in ``reminded_at``. Internal messages go
through the email provider, never through the ledger; a mail server down never undoes the action."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, HumanTask
from campaigns.services import notifications, tasks
from channels.models import Message, OutboxMessage
from tests.campaigns.conftest import wait_for
from tests.campaigns.governance import created, people, policy
from tests.channels import conftest as channel_fixtures
from tests.conftest import member_of
from tests.conftest import token_client as api

pytestmark = [pytest.mark.django_db(transaction=True)]
SMTP = "channels.providers.smtp.SMTPProvider"
smtp = channel_fixtures.smtp  # the aiosmtpd sink on loopback


def mail_to(sink):
    """``CHANNEL_PROVIDERS`` and Django's ``EMAIL_*`` pointing at the sink."""
    return override_settings(
        CHANNEL_PROVIDERS={"email": {"BACKEND": SMTP}, "sms": {}, "push": {}},
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=sink.port,
        EMAIL_TIMEOUT=2,
        SITE_URL="http://campaigns.test",
    )


@pytest.fixture
def team(roles, engine):  # engine: Redis flushed after
    team = people(roles)
    for name in ("pub", "ann", "bob"):
        team[name].email = f"{name}@example.com"
        team[name].save()
    team["gone"] = member_of(roles["Approver"], "gone")  # inactive: never mailed
    team["gone"].email, team["gone"].is_active = "gone@example.com", False
    team["gone"].save()
    team["other"] = member_of(Group.objects.create(name="Elsewhere"), "other")
    team["other"].email = "other@example.com"
    team["other"].save()
    return team


def received(sink, address=None):
    return [m for m in list(sink.messages) if address is None or m["to"] == address]


def test_approvers_get_task_created_and_the_requester_task_decided(schema, team, roles, smtp):
    policy(roles["Approver"])
    campaign = created(schema, schedule={"frequency": "signal"})
    with mail_to(smtp):
        answer = api(team["pub"]).post(f"/api/campaigns/{campaign.pk}/publish/")
        assert answer.status_code == 200, answer.content
        assert answer.json()["status"] == "pending_approval"
        task = HumanTask.objects.get(campaign=campaign)
        wait_for(lambda: len(received(smtp)) == 2, timeout=10)
        assert sorted(m["to"] for m in received(smtp)) == ["ann@example.com", "bob@example.com"]
        created_mail = received(smtp, "ann@example.com")[0]
        assert created_mail["subject"] == f"[Campaigns] Publish {campaign.name}"
        body = created_mail["raw"].decode()
        assert f"http://campaigns.test/admin/campaigns/humantask/{task.pk}/change/" in body
        assert "X-Campaign-Internal: notification" in body

        decided = api(team["ann"]).post(
            f"/api/tasks/{task.pk}/approve/", {"comment": "fine"}, format="json"
        )
        assert decided.status_code == 200, decided.content
        wait_for(lambda: received(smtp, "pub@example.com"), timeout=10)
    (mail,) = received(smtp, "pub@example.com")
    assert mail["subject"] == f"[Campaigns] Publish {campaign.name}: approved"
    assert "approved by ann: fine" in mail["raw"].decode()
    assert len(received(smtp)) == 3  # nobody else: not the inactive approver, not other groups
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.LIVE
    assert not Message.objects.exists()  # internal: never in the message ledger


def test_a_rejection_tells_the_requester_why(schema, team, roles, smtp):
    policy(roles["Approver"])
    campaign = created(schema, schedule={"frequency": "signal"})
    with mail_to(smtp):
        api(team["pub"]).post(f"/api/campaigns/{campaign.pk}/publish/")
        task = HumanTask.objects.get(campaign=campaign)
        answer = api(team["bob"]).post(
            f"/api/tasks/{task.pk}/reject/", {"comment": "wrong audience"}, format="json"
        )
        assert answer.status_code == 200, answer.content
        wait_for(lambda: received(smtp, "pub@example.com"), timeout=10)
    (mail,) = received(smtp, "pub@example.com")
    assert mail["subject"].endswith(": rejected")
    assert "rejected by bob: wrong audience" in mail["raw"].decode()


def test_the_tick_reminds_the_approvers_once_then_the_expiry_reaches_the_requester(
    schema, team, roles, smtp, engine
):
    engine.env.update(
        {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port), "TASK_REMINDER_FRACTION": "0.5"}
    )
    policy(roles["Approver"], expires_in="8s")
    campaign = created(schema, schedule={"frequency": "signal"})
    with mail_to(smtp):
        assert api(team["pub"]).post(f"/api/campaigns/{campaign.pk}/publish/").status_code == 200
        wait_for(lambda: len(received(smtp)) == 2, timeout=10)  # task_created
    task = HumanTask.objects.get(campaign=campaign)
    engine.tick()
    wait_for(lambda: len(received(smtp)) == 4, timeout=15)
    reminders = [m for m in received(smtp) if m["subject"].startswith("[Campaigns] Reminder:")]
    assert sorted(m["to"] for m in reminders) == ["ann@example.com", "bob@example.com"]
    task.refresh_from_db()
    assert task.reminded_at is not None and task.status == "new"
    assert task.reminded_at >= task.created_at + (task.due_at - task.created_at) / 2

    wait_for(lambda: received(smtp, "pub@example.com"), timeout=20)  # expired, by the tick
    (expired,) = received(smtp, "pub@example.com")
    assert expired["subject"] == f"[Campaigns] Publish {campaign.name}: expired"
    task.refresh_from_db()
    assert task.status == "expired"
    reminders = [m for m in received(smtp) if m["subject"].startswith("[Campaigns] Reminder:")]
    assert len(reminders) == 2  # once per task, though the tick ran every second
    assert len(received(smtp)) == 5


def test_remind_due_with_a_controlled_clock(schema, team, roles, smtp):
    group = roles["Approver"]
    with mail_to(smtp):
        task = tasks.create_task(title="Sign this", group=group, due_at=timezone.now())
        wait_for(lambda: len(received(smtp)) == 2, timeout=10)
    start = task.created_at
    HumanTask.objects.filter(pk=task.pk).update(due_at=start + dt.timedelta(hours=4))
    with mail_to(smtp), override_settings(TASK_REMINDER_FRACTION=0.25):
        assert tasks.remind_due(now=start + dt.timedelta(hours=2)) == 0  # half the time left
        assert tasks.remind_due(now=start + dt.timedelta(hours=3, minutes=1)) == 1
        assert tasks.remind_due(now=start + dt.timedelta(hours=3, minutes=30)) == 0
        assert tasks.remind_due(now=start + dt.timedelta(hours=5)) == 0  # past due: expiry's
        wait_for(lambda: len(received(smtp)) == 4, timeout=10)
    assert HumanTask.objects.get(pk=task.pk).reminded_at == start + dt.timedelta(hours=3, minutes=1)
    assert len(received(smtp)) == 4


def test_local_mode_keeps_them_in_the_outbox_and_a_dead_server_undoes_nothing(schema, team, roles):
    group = roles["Approver"]
    outbox = {"email": {"BACKEND": "channels.providers.outbox.OutboxProvider"}}
    with override_settings(CHANNEL_PROVIDERS=outbox):
        task = tasks.create_task(title="Kept locally", group=group)
        assert notifications.task_created(task) == {
            "ann@example.com": "sent",
            "bob@example.com": "sent",
        }
    kept = OutboxMessage.objects.filter(subject="[Campaigns] Kept locally")
    assert sorted(kept.values_list("to", flat=True)) == [
        "ann@example.com",
        "ann@example.com",
        "bob@example.com",
        "bob@example.com",
    ]  # fmt: skip  (once on commit of create_task, once called here)
    assert {m.message_ref for m in kept} == {None}
    assert kept.first().headers["X-Campaign-Internal"] == "notification"

    dead = {"email": {"BACKEND": SMTP}}
    with override_settings(CHANNEL_PROVIDERS=dead, EMAIL_HOST="127.0.0.1", EMAIL_PORT=9):
        task = tasks.create_task(title="Nobody listens", group=group)  # no exception
        assert set(notifications.task_created(task).values()) <= {"failed"}
    assert HumanTask.objects.filter(title="Nobody listens").exists()
