"""Live sends through real worker processes to a real SMTP server and a real HTTP server."""

import pytest

from campaigns.models import RunStatus
from tests.channels.conftest import final_run
from tests.channels.helpers import delivery_of, document, fates, publish

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def test_an_email_campaign_sends_each_recipient_once_personalized(shop, smtp, senders):
    engine = senders(smtp=smtp)
    engine.worker()
    engine.tick()
    campaign, run = publish(document(shop))
    run = final_run(run, timeout=60)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert smtp.count_by_address() == {f"c{i}@example.com": 1 for i in range(1, 21)}
    by_to = {m["to"]: m for m in smtp.messages}
    assert by_to["c2@example.com"]["subject"] == "Hello Ann2"
    assert b"Hi Ann2 from Paris: SPRING" in by_to["c2@example.com"]["raw"]
    delivery = delivery_of(run)
    assert fates(delivery) == {"sent": 20}
    ids = set(delivery.messages.values_list("provider_id", flat=True))
    assert ids == {m["message_id"] for m in smtp.messages}
    assert run.activity_runs.get(key="send").counts == {"out": 20}
