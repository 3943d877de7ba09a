"""Delivery report benchmark (issue 13): ``channels.reports.report`` on a 1,000,000-message
delivery, against a baseline measured in the same run.

The fixture is written by SQL (``generate_series``) into the real ledger tables: one delivery of
``--messages`` rows (92 % sent, 1 % failed, the rest excluded at staging or send time) in chunks
of 500 with their counters, and its events: delivered (88 %), opens by people (31 %) and by
proxies (6 %), a second open for a third of the openers, clicks (9 %), bounces (2 %),
unsubscribes (0.3 %): about 1.5 events per message.

The tables are then vacuumed and analyzed, as autovacuum would after such a load (the report
reads the events' index alone once the visibility map is set). Measures (best of ``--repeat``,
after one warm-up):
- the report (ONE query: chunk counters, exclusions at send time, unique events by kind);
- the sends-over-time series of the admin chart (one GROUP BY over the sent messages);
- baseline: ``SELECT count(*)`` of the delivery's messages (the cheapest full look at them) and
  ``count(DISTINCT message_id)`` of its opens; ratio = report / baseline.
Target: the report under 1 s. The fixture is deleted at the end; ``--keep`` keeps it.

Run: make bench, or DATABASE_URL=... .venv/bin/python bench/report.py [--messages 1000000]
     [--repeat 5] [--keep]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from audiences.models import Schema  # noqa: E402
from audiences.services.schemas import create_schemas  # noqa: E402
from channels import reports  # noqa: E402
from channels.models import Delivery  # noqa: E402
from config.access import SYSTEM  # noqa: E402

SCHEMA = "bench_report_people"
MESSAGES = """
INSERT INTO channels_message (delivery_id, key, address, status, reason, chunk, attempts,
  provider_id, error, sent_at)
SELECT %(d)s, 'p' || i, 'p' || i || '@example.com',
  CASE WHEN i %% 100 < 92 THEN 'sent' WHEN i %% 100 = 92 THEN 'failed' ELSE 'excluded' END,
  CASE WHEN i %% 100 > 92 THEN (CASE WHEN i %% 100 = 99 THEN 'opted_out' ELSE 'no_address' END)
    ELSE '' END,
  CASE WHEN i %% 100 <= 92 OR i %% 100 = 99 THEN i / 500 END, 1, '', '',
  CASE WHEN i %% 100 < 92 THEN %(t)s + make_interval(secs => i / 1000.0) END
FROM generate_series(1, %(n)s) i
"""
EVENTS = """
INSERT INTO channels_event (delivery_id, message_id, kind, bot, soft, url, user_agent, data,
  created_at)
SELECT m.delivery_id, m.id, e.kind, e.bot, false, '', '', '{}', now()
FROM channels_message m, LATERAL (VALUES
  ('delivered', false, m.id %% 100 < 88),
  ('open', false, m.id %% 100 < 31),
  ('open', false, m.id %% 300 < 31),
  ('open', true, m.id %% 100 BETWEEN 40 AND 45),
  ('click', false, m.id %% 100 < 9),
  ('bounce', false, m.id %% 100 BETWEEN 88 AND 89),
  ('unsubscribe', false, m.id %% 1000 < 3)) AS e(kind, bot, keep)
WHERE m.delivery_id = %(d)s AND m.status = 'sent' AND e.keep
"""


def _schema():
    found = Schema.objects.filter(name=SCHEMA).first()
    if found:
        return found
    (created,) = create_schemas(
        document={"name": SCHEMA, "primary_key": "person_id", "targeting": {"email": "email"},
                  "attributes": [{"name": "person_id", "type": "string"},
                                 {"name": "email", "type": "string"}]},
        user=SYSTEM,
    )  # fmt: skip
    return created


def fixture(n):
    started = time.monotonic()
    delivery = Delivery.objects.create(
        channel="email", schema=_schema(), address_field="email", status="finished",
        campaign_name="bench report", activity_key="mail", targeted=n,
        staged=n - n * 7 // 100, excluded={"no_address": n * 6 // 100},
        started_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(MESSAGES, {"d": delivery.pk, "n": n, "t": delivery.started_at})
        cursor.execute(
            "INSERT INTO channels_chunk (delivery_id, number, status, claimed_by, claims, sent, "
            "failed, unknown, expired, cancelled, excluded) SELECT %s, chunk, 'done', '', 1, "
            "count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed'), "
            "0, 0, 0, count(*) FILTER (WHERE status = 'excluded') FROM channels_message "
            "WHERE delivery_id = %s AND chunk IS NOT NULL GROUP BY chunk",
            [delivery.pk, delivery.pk],
        )
        cursor.execute(EVENTS, {"d": delivery.pk})
        # what autovacuum does to a table that just took a million rows: statistics, and the
        # visibility map that lets the report read the event index alone (index-only scans)
        for table in ("channels_message", "channels_event", "channels_chunk"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("SELECT count(*) FROM channels_event WHERE delivery_id = %s", [delivery.pk])
        (events,) = cursor.fetchone()
    print(f"fixture: {n:,} messages, {events:,} events in {time.monotonic() - started:.1f} s")
    return delivery


def drop(delivery):
    """Delete the fixture in SQL (the ORM's cascade would load millions of rows)."""
    with connection.cursor() as cursor:
        for table in ("channels_event", "channels_message", "channels_chunk"):
            cursor.execute(f"DELETE FROM {table} WHERE delivery_id = %s", [delivery.pk])
        cursor.execute("DELETE FROM channels_delivery WHERE id = %s", [delivery.pk])


def best(repeat, run):
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times), times


def baseline(delivery):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM channels_message WHERE delivery_id = %s", [delivery.pk]
        )
        cursor.execute(
            "SELECT count(DISTINCT message_id) FROM channels_event WHERE delivery_id = %s "
            "AND kind = 'open' AND NOT bot",
            [delivery.pk],
        )
        return cursor.fetchone()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    for old in Delivery.objects.filter(campaign_name="bench report"):
        drop(old)  # left by an earlier --keep
    delivery = fixture(args.messages)
    try:
        figures = reports.report([delivery])[delivery.pk]
        print("figures:", {k: figures[k] for k in ("targeted", "sent", "failed", "excluded",
              "delivered", "bounced", "opened", "bot_opens", "opens", "clicked", "unsubscribed")})  # fmt: skip
        report, runs = best(args.repeat, lambda: reports.report([delivery]))
        series, _ = best(args.repeat, lambda: reports.sends_over_time(delivery))
        base, _ = best(args.repeat, lambda: baseline(delivery))
        print(
            f"report (one query): {report * 1000:.0f} ms (runs {', '.join(f'{t * 1000:.0f}' for t in runs)})"
        )
        print(f"sends over time: {series * 1000:.0f} ms")
        print(f"baseline (count of messages + unique opens): {base * 1000:.0f} ms")
        print(f"ratio report / baseline: {report / base:.2f}; target report < 1 s: "
              f"{'met' if report < 1 else 'NOT met'}")  # fmt: skip
    finally:
        if not args.keep:
            drop(delivery)


if __name__ == "__main__":
    main()
