"""Campaign documents with one channel activity, and ledger reads, for the channel tests."""

from campaigns import services
from config.access import SYSTEM

EMAIL = {
    "subject": "Hello {{ profile.first_name }}",
    "html": "<p>Hi {{ profile.first_name }} from {{ profile.store.city }}: {{ vars.code }}</p>",
}


def document(schema, name="Send", channel="email", where=None, **options):
    message = {"email": EMAIL, "sms": {"text": "Hi {{ profile.first_name }}"}}.get(channel) or {
        "title": "Hi {{ profile.first_name }}",
        "body": "Code {{ vars.code }}",
        "data": {"customer": "{{ profile.customer_id }}"},
    }
    return {
        "name": name,
        "variables": [{"name": "code", "type": "string", "default": "SPRING"}],
        "activities": [
            {
                "id": "aud",
                "type": "build_audience",
                "schema": schema.name,
                "where": where or {"and": []},
            },
            {"id": "send", "type": channel, **message, "send_confirmation": False, **options},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": "send"}, {"from": "send", "to": "done"}],
    }


def publish(doc):
    campaign = services.create_from_definition(document=doc, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    return campaign, campaign.runs.get()


def delivery_of(run, key="send"):
    from channels.models import Delivery

    return Delivery.objects.filter(run_id=run.pk, activity_key=key).first()


def fates(delivery):
    from django.db.models import Count

    rows = delivery.messages.values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


def grow(schema, total):
    """More customers in ``schema``'s table, up to ``total`` (c021, c022...)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO data_{schema.name} SELECT 'c' || lpad(i::text, 3, '0'), 'Ann' || i, "
            "'c' || i || '@example.com', '+3361234' || lpad(i::text, 4, '0'), 'tok' || i, i * 10, "
            "'s1' FROM generate_series(21, %s) i",
            [total],
        )


def no_address_twice(smtp, delivery):
    """Every staged recipient sent exactly once or counted unknown; none twice; none lost."""
    received = smtp.count_by_address()
    assert max(received.values(), default=1) == 1, "an address got two messages"
    rows = list(delivery.messages.values_list("address", "status", "provider_id"))
    by_status = {}
    for address, status, _pid in rows:
        by_status.setdefault(status, set()).add(address)
    assert set(by_status) <= {"sent", "unknown"}, by_status.keys()
    assert by_status.get("sent", set()) <= set(received)
    assert set(received) <= by_status.get("sent", set()) | by_status.get("unknown", set())
    ids = {m["message_id"] for m in smtp.messages}
    assert {pid for _a, s, pid in rows if s == "sent"} <= ids
    return {s: len(a) for s, a in by_status.items()}
