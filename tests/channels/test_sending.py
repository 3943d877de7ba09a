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


def test_an_email_renders_the_columns_an_enrichment_added(shop, smtp, senders):
    """Issue 12: enrichment aliases ride along into personalization as ``target.<alias>``."""
    engine = senders(smtp=smtp)
    engine.worker()
    doc = document(shop, name="Enriched")
    doc["activities"].insert(
        1,
        {
            "id": "enrich",
            "type": "enrichment",
            "columns": [{"alias": "city", "field": "store.city"}],
        },
    )
    doc["activities"][2].update(
        subject="{{ profile.first_name }}, news from {{ target.city }}",
        html="<p>Your store in {{ target.city | upper }}</p>",
    )
    doc["transitions"] = [
        {"from": "aud", "to": "enrich"},
        {"from": "enrich", "to": "send"},
        {"from": "send", "to": "done"},
    ]
    _campaign, run = publish(doc)
    run = final_run(run, timeout=60)
    assert run.status == RunStatus.SUCCEEDED, run.error
    by_to = {m["to"]: m for m in smtp.messages}
    assert len(by_to) == 20
    # even customers shop in s1 (Paris), odd ones in s2 (Lyon): the fixture's store links
    assert by_to["c2@example.com"]["subject"] == "Ann2, news from Paris"
    assert by_to["c3@example.com"]["subject"] == "Ann3, news from Lyon"
    assert b"Your store in PARIS" in by_to["c2@example.com"]["raw"]
