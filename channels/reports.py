"""What a delivery shows (design 6 ``deliveries/``, design 10 step 5).

- ``counts(delivery) -> dict``: live progress: staging's figures plus the sum of the chunks'
  counters (one small aggregate, whatever the delivery's size) and the messages ``sending`` right
  now. ``percent`` is the share of the staged messages whose fate is final.
- ``report(deliveries) -> {id: dict}``: the full report of each delivery in ONE query, set-based
  (no loop over messages): ``counts``' figures, exclusions by reason (staging's and those found
  at send time), then delivered, bounced, unique opens and clicks (people: bot and prefetch
  opens are counted apart as ``bot_opens``), unsubscribed, complaints, the rates and the
  control-group uplift last computed (``channels.uplift``).
- ``campaign_report(campaign_id) -> dict``: the same for each live delivery of a campaign, and
  their totals.
- ``sends_over_time(delivery) -> {"unit", "points": [[iso time, sent]]}``: sends per minute,
  hour or day (from the delivery's span), for the admin's chart.
"""

import json

from django.db import connection
from django.db.models import Sum

from channels.ledger import COUNTED
from channels.models import Delivery, MessageStatus

FINAL = ("sent", "failed", "unknown", "expired", "cancelled")
EVENTS = ("delivered", "bounce", "complaint", "unsubscribe", "open", "click")


def _late_reasons(delivery) -> dict:
    from django.db.models import Count

    rows = delivery.messages.filter(status="excluded", chunk__isnull=False).values("reason")
    return {r["reason"] or "invalid_address": r["n"] for r in rows.annotate(n=Count("id"))}


def _progress(delivery, sums, late, sending) -> dict:
    excluded = dict(delivery.excluded or {})
    for reason, n in late.items():
        excluded[reason] = excluded.get(reason, 0) + n
    staged = delivery.staged
    done = sum(sums[name] for name in FINAL) + sums["excluded"]
    if delivery.test:
        done = staged
    return {
        "targeted": delivery.targeted,
        "excluded": excluded,
        "excluded_total": sum(excluded.values()),
        "staged": staged,
        "queued": max(staged - done - sending, 0) if not delivery.test else 0,
        "sending": sending,
        **{name: sums[name] for name in FINAL},
        "percent": round(100.0 * done / staged, 1) if staged else 100.0,
    }


def counts(delivery) -> dict:
    sums = delivery.chunks.aggregate(**{name: Sum(name) for name in COUNTED})
    sums = {name: int(value or 0) for name, value in sums.items()}
    sending = (
        delivery.messages.filter(status=MessageStatus.SENDING).count()
        if delivery.status == "sending"
        else 0
    )
    late = _late_reasons(delivery) if sums["excluded"] else {}
    return _progress(delivery, sums, late, sending)


REPORT = """
SELECT d.id,
  (SELECT json_build_object({chunk_sums}) FROM channels_chunk k WHERE k.delivery_id = d.id),
  (SELECT json_object_agg(x.reason, x.n) FROM (SELECT COALESCE(NULLIF(m.reason, ''),
      'invalid_address') AS reason, count(*) AS n FROM channels_message m
    WHERE m.delivery_id = d.id AND m.status = 'excluded' AND m.chunk IS NOT NULL
    GROUP BY 1) x),
  (SELECT count(*) FROM channels_message m WHERE m.delivery_id = d.id AND m.status = 'sending'),
  (SELECT json_agg(json_build_array(e.kind, e.bot, e.people, e.total)) FROM (
    SELECT kind, bot, count(DISTINCT message_id) AS people, count(*) AS total
    FROM channels_event WHERE delivery_id = d.id GROUP BY kind, bot) e)
FROM unnest(%s::bigint[]) AS d(id)
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def _events(rows) -> dict:
    found = {f"{kind}_{what}": 0 for kind in EVENTS for what in ("people", "total", "bots")}
    for kind, bot, people, total in rows or []:
        if bot:
            found[f"{kind}_bots"] += people
        else:
            found[f"{kind}_people"] += people
        found[f"{kind}_total"] += total
    return found


def _share(part, whole):
    return round(100.0 * part / whole, 2) if whole else None


def _engagement(figures, events) -> dict:
    sent = figures["sent"]
    delivered = events["delivered_people"]
    opened, clicked = events["open_people"], events["click_people"]
    base = delivered or sent
    return {
        "delivered": delivered,
        "bounced": events["bounce_people"],
        "complained": events["complaint_people"],
        "opened": opened,
        "bot_opens": events["open_bots"],
        "opens": events["open_total"],
        "clicked": clicked,
        "clicks": events["click_total"],
        "unsubscribed": events["unsubscribe_people"],
        "rates": {
            "delivered": _share(delivered, sent),
            "bounced": _share(events["bounce_people"], sent),
            "opened": _share(opened, base),
            "clicked": _share(clicked, base),
            "click_to_open": _share(clicked, opened),
            "unsubscribed": _share(events["unsubscribe_people"], base),
        },
    }


def report(deliveries) -> dict:
    """``{delivery id: figures}`` for ``deliveries`` (Delivery instances), in one query."""
    deliveries = list(deliveries)
    if not deliveries:
        return {}
    chunk_sums = ", ".join(f"'{n}', COALESCE(sum(k.{n}), 0)" for n in COUNTED)
    with connection.cursor() as cursor:
        cursor.execute(REPORT.format(chunk_sums=chunk_sums), [[d.pk for d in deliveries]])
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    out = {}
    for delivery in deliveries:
        sums, late, sending, events = rows[delivery.pk]
        sums = {n: int(v or 0) for n, v in _json(sums).items()}
        sending = sending if delivery.status == "sending" else 0
        figures = _progress(delivery, sums, _json(late), sending)
        events = _events(json.loads(events) if isinstance(events, str) else events)
        out[delivery.pk] = {**figures, **_engagement(figures, events), "uplift": delivery.uplift}
    return out


TOTALS = ("targeted", "excluded_total", "staged", "sent", "failed", "unknown", "expired",
          "delivered", "bounced", "opened", "clicked", "unsubscribed")  # fmt: skip


def campaign_report(campaign_id: int) -> dict:
    """Each non-test delivery of the campaign (newest first) with its figures, and totals."""
    deliveries = list(
        Delivery.objects.filter(campaign_id=campaign_id, test=False).order_by("-created_at")
    )
    figures = report(deliveries)
    rows = [{"delivery": d, **figures[d.pk]} for d in deliveries]
    totals = {name: sum(r[name] for r in rows) for name in TOTALS}
    return {"deliveries": rows, "totals": totals}


def _unit(delivery) -> str:
    start, end = delivery.started_at, delivery.finished_at
    if start is None:
        return "minute"
    from django.utils import timezone

    span = ((end or timezone.now()) - start).total_seconds()
    return "minute" if span <= 6 * 3600 else ("hour" if span <= 14 * 86400 else "day")


def sends_over_time(delivery) -> dict:
    unit = _unit(delivery)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc(%s, sent_at) AS at, count(*) FROM channels_message "
            "WHERE delivery_id = %s AND status = 'sent' AND sent_at IS NOT NULL "
            "GROUP BY 1 ORDER BY 1",
            [unit, delivery.pk],
        )
        points = [[at.isoformat(), n] for at, n in cursor.fetchall()]
    return {"unit": unit, "points": points}
