"""Forecast benchmark (issue 15): how long ``campaigns.forecast.build`` takes on a large audience
with the frequency-cap check on, and with many live campaigns to stack, against the one query
that must read the ledger (the cap's count, written by hand), on the same server in the same run.

Data (set-based, removed at the end): a draft campaign, daily at 09:30 UTC, whose test run staged
``--messages`` emails (queued ledger rows); two earlier live deliveries of the same schema that
sent 60% of those recipients two marketing emails yesterday (so the cap ``{"messages": 2, "days":
7}`` excludes 60% and warns); ``--live`` live weekly campaigns, each with a finished live run of
10,000 emails, launching in the window. Best of ``--repeat`` after one warm-up; both sides must
find the same number of capped recipients.

Run: make bench, or
  .venv/bin/python -m config.devstack exec --data-dir .devdata/bench --migrate -- \
      .venv/bin/python bench/forecast.py [--messages 500000] [--live 50] [--repeat 3]
"""

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from audiences.models import Schema  # noqa: E402
from audiences.services.schemas import create_schemas  # noqa: E402
from campaigns import definitions, forecast, services  # noqa: E402
from campaigns.models import Campaign, Run, RunStatus, Version  # noqa: E402
from channels.models import Delivery, DeliveryStatus  # noqa: E402
from config.access import SYSTEM  # noqa: E402

HAND = """
SELECT count(*) FROM channels_message m
WHERE m.delivery_id = %(delivery)s AND m.status = 'queued' AND m.key IN (
  SELECT h.key FROM channels_message h JOIN channels_delivery d ON d.id = h.delivery_id
  WHERE d.schema_id = %(schema)s AND NOT d.test AND d.category = 'marketing'
    AND h.status = 'sent' AND h.sent_at >= %(since)s
  GROUP BY h.key HAVING count(*) >= 2)
"""


def document(schema, name, schedule):
    return {
        "name": name,
        "schedule": schedule,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name, "where": {"and": []}},
            {"id": "send", "type": "email", "subject": "Hi", "html": "<p>Hi</p>",
             "send_confirmation": False, "throttle_per_second": 50},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": "send"}, {"from": "send", "to": "done"}],
    }  # fmt: skip


def run_with_delivery(campaign, schema, staged, *, test, status):
    version = Version.objects.create(campaign=campaign, definition=definitions.export(campaign))
    run = Run.objects.create(
        campaign=campaign, version=version, test=test, status=RunStatus.SUCCEEDED
    )
    return Delivery.objects.create(
        channel="email", test=test, status=status, campaign_id=campaign.pk, run_id=run.pk,
        activity_key="send", schema=schema, address_field="email", targeted=staged,
        staged=staged, throttle_per_second=50, validity_hours=12,
    )  # fmt: skip


def rows(delivery, last, status, sent_at=None):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO channels_message (delivery_id, key, address, status, reason, attempts, "
            "provider_id, error, sent_at) SELECT %s, 'c' || i, 'c' || i || '@example.com', %s, "
            "'', 0, '', '', %s FROM generate_series(1, %s) i",
            [delivery.pk, status, sent_at, last],
        )
        cursor.execute("ANALYZE channels_message")


def setup(messages, live, tag):
    (schema,) = create_schemas(
        document={"name": f"bfc_{tag}", "primary_key": "customer_id",
                  "targeting": {"email": "email"},
                  "attributes": [{"name": "customer_id", "type": "string"},
                                 {"name": "email", "type": "string"}]}
    )  # fmt: skip
    daily = {"frequency": "daily", "times": ["09:30"], "timezone": "UTC"}
    mine = services.create_from_definition(
        document=document(schema, f"Bench forecast {tag}", daily), user=SYSTEM
    )
    test = run_with_delivery(mine, schema, messages, test=True, status=DeliveryStatus.STAGED)
    rows(test, messages, "queued")
    earlier = services.create_from_definition(
        document=document(schema, f"Bench earlier {tag}", {"frequency": "asap"}), user=SYSTEM
    )
    yesterday = timezone.now() - dt.timedelta(days=1)
    for _ in range(2):
        past = run_with_delivery(earlier, schema, messages, test=False, status="finished")
        rows(past, int(messages * 0.6), "sent", yesterday)
    weekly = {"frequency": "weekly", "days": ["thu"], "times": ["10:00"], "timezone": "UTC"}
    for i in range(live):
        other = services.create_from_definition(
            document=document(schema, f"Bench live {tag} {i}", weekly), user=SYSTEM
        )
        Version.objects.create(
            campaign=other, number=1, definition={**definitions.export(other), "schedule": weekly}
        )
        Campaign.objects.filter(pk=other.pk).update(
            status="live", published_at=yesterday,
            next_launch_at=timezone.now() + dt.timedelta(days=2),
        )  # fmt: skip
        run_with_delivery(other, schema, 10_000, test=False, status="finished")
    return schema, mine, test


def best(function, repeat):
    function()  # warm-up
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def teardown(schema, tag):
    Delivery.objects.filter(schema=schema).delete()
    Run.objects.filter(campaign__name__contains=f" {tag}").delete()
    Campaign.objects.filter(name__contains=f" {tag}").delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS data_{schema.name} CASCADE")
    Schema.objects.filter(pk=schema.pk).delete()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--live", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    schema, mine, test = setup(args.messages, args.live, tag)
    print(f"setup: {args.messages:,} staged, {args.live} live campaigns in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    try:
        with override_settings(FREQUENCY_CAP={"messages": 2, "days": 7}):
            ours, result = best(lambda: forecast.build(mine, user=SYSTEM, start=False), args.repeat)
        since = timezone.now() - dt.timedelta(days=7)
        params = {"delivery": test.pk, "schema": schema.pk, "since": since}

        def hand():
            with connection.cursor() as cursor:
                cursor.execute(HAND, params)
                return cursor.fetchone()[0]

        theirs, capped = best(hand, args.repeat)
        (warning,) = [
            w for w in result["warnings"] if w["activity"] == "send" and "cap" in w["code"]
        ]
        assert f"exclude {capped:,} of {args.messages:,}" in warning["message"], warning
        email = next(c for c in result["load"] if c["channel"] == "email")
        print(f"forecast.build: {ours:.3f} s; the cap query by hand: {theirs:.3f} s; "
              f"ratio {ours / theirs:.2f}")  # fmt: skip
        print(f"capped {capped:,}; this campaign {email['campaign_messages']:,} messages, others "
              f"{email['other_messages']:,}, peak {email['peak']:,}/h; warnings "
              f"{[w['code'] for w in result['warnings']]}")  # fmt: skip
    finally:
        teardown(schema, tag)


if __name__ == "__main__":
    main()
