"""What a delivery shows (design 6 ``deliveries/``, design 10 step 5): targeted, excluded by
reason, sent, failed, unknown, expired, cancelled, with live progress while sending.

``counts(delivery) -> dict``: staging's figures plus the sum of the chunks' counters (one small
aggregate, whatever the delivery's size) and the messages ``sending`` right now (an index range).
``percent`` is the share of the staged messages whose fate is final.
"""

from django.db.models import Sum

from channels.ledger import COUNTED
from channels.models import MessageStatus

FINAL = ("sent", "failed", "unknown", "expired", "cancelled")


def counts(delivery) -> dict:
    sums = delivery.chunks.aggregate(**{name: Sum(name) for name in COUNTED})
    sums = {name: int(value or 0) for name, value in sums.items()}
    excluded = dict(delivery.excluded or {})
    if sums["excluded"]:
        excluded["invalid_address"] = excluded.get("invalid_address", 0) + sums["excluded"]
    sending = (
        delivery.messages.filter(status=MessageStatus.SENDING).count()
        if delivery.status == "sending"
        else 0
    )
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
