"""``alert``: a real SMTP conversation between a worker process and an aiosmtpd server."""

import email
import socket

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group, User

from campaigns import services
from campaigns.activities import registry
from campaigns.activities.base import Check
from campaigns.models import ActivityRun, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def staff(transactional_db):
    ops = Group.objects.create(name="ops")
    ann = User.objects.create(username="ann", email="ann@example.com")
    bob = User.objects.create(username="bob", email="bob@example.com")
    gone = User.objects.create(username="carol", email="carol@example.com", is_active=False)
    silent = User.objects.create(username="dan", email="")
    for user in (ann, bob, gone, silent):
        user.groups.add(ops)
    User.objects.create(username="eve", email="eve@example.com")  # not listed
    return ops


def alert_campaign(schema, name):
    return {
        "name": name,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name},
            {
                "id": "fr",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "country", "op": "eq", "value": "FR"},
            },
            {"id": "both", "type": "combine", "operation": "intersection"},
            {
                "id": "tell",
                "type": "alert",
                "users": ["ann"],
                "groups": ["ops"],
                "subject": "Counts are in",
                "message": "The audience is ready.",
            },
            {"id": "done", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "both"},
            {"from": "fr", "to": "both"},
            {"from": "both", "to": "tell"},
            {"from": "tell", "to": "done"},
        ],
    }


def point_worker_at(engine, controller):
    engine.env.update(EMAIL_HOST=controller.hostname, EMAIL_PORT=str(controller.port))


@pytest.mark.workers
def test_live_run_emails_users_and_group_members_with_counts(schema, engine, smtp, staff):
    controller, inbox = smtp
    point_worker_at(engine, controller)
    engine.worker()
    campaign = services.create_from_definition(
        document=alert_campaign(schema, "Alerting"), user=SYSTEM
    )
    assert services.validation_errors(campaign) == []
    services.publish(campaign=campaign, user=SYSTEM)
    run = final_run(campaign.runs.get())
    assert run.status == RunStatus.SUCCEEDED, run.error
    tell = ActivityRun.objects.get(run=run, key="tell")
    assert tell.state == {"recipients": ["ann@example.com", "bob@example.com"], "sent": 2}
    assert tell.counts == {"out": 15}
    assert sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts) == [
        "ann@example.com",
        "bob@example.com",
    ]
    _, message = inbox.messages[0]
    assert message["Subject"] == "Counts are in"
    text = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert text.startswith("The audience is ready.\n")
    assert f"Campaign: Alerting\nRun: {run.pk} (live)" in text
    assert "  aud [out] -> both: 20\n" in text
    assert "  fr [out] -> both: 15\n" in text
    assert "  both [out] -> tell: 15\n" in text
    assert "  tell [out] -> done: pending" in text


@pytest.mark.workers
def test_test_run_sends_nothing(schema, engine, smtp, staff):
    controller, inbox = smtp
    point_worker_at(engine, controller)
    engine.worker()
    campaign = services.create_from_definition(
        document=alert_campaign(schema, "Quiet"), user=SYSTEM
    )
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED, run.error
    tell = ActivityRun.objects.get(run=run, key="tell")
    assert tell.state["recipients"] == ["ann@example.com", "bob@example.com"]
    assert tell.state["sent"] == 0
    assert tell.counts == {"out": 15}
    assert inbox.messages == []


def test_options_are_validated(staff):
    kind = registry.get("alert")

    def errors(**options):
        merged = kind.with_defaults({"users": ["ann"], "subject": "Hi", **options})
        return {(e["path"], e["message"]) for e in kind.check(merged, Check("a[3]"))}

    assert errors() == set()
    assert errors(groups=["ops"]) == set()
    assert errors(users=["ann", "zed"], groups=["ops", "nobody"]) == {
        ("a[3].users[1]", "no user named 'zed'"),
        ("a[3].groups[1]", "no group named 'nobody'"),
    }
    assert errors(users=[]) == {("a[3]", "give at least one user or group")}
    assert errors(users=[""]) == {("a[3].users[0]", "no user named ''")}
    assert errors(subject="") == {("a[3].subject", "must not be empty")}
