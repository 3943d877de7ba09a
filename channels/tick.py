"""The deliveries' part of the reconciler's tick (``manage.py campaigns_tick``), over PostgreSQL
state only, so losing Redis or a worker loses nothing:

- ``expired``: sending or held deliveries past their validity window: queued messages become
  ``expired`` (the delivery finishes once the batches in flight are recorded);
- ``followed``: open deliveries follow their owner (``channels.signals.owner_state``): ``hold``
  holds a sending one, ``go`` resumes a held one (send jobs enqueued), ``stop`` ends it (queued
  messages cancelled);
- ``enqueued``: sending deliveries with a chunk to claim (pending, or claimed by a worker whose
  lease ran out: a dead worker, taken over here within ``SEND_LEASE_SECONDS`` and a tick) and no
  live lease holder get send jobs again (at most once per lease period).
"""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from channels import jobs, ledger, sending, signals
from channels.models import OPEN_DELIVERY, ChunkStatus, Delivery, DeliveryStatus


def expire_due() -> int:
    due = Delivery.objects.filter(
        status__in=(DeliveryStatus.SENDING, DeliveryStatus.HELD), expires_at__lte=timezone.now()
    )
    count = 0
    for delivery in due:
        sending.expire(delivery)
        if delivery.status == DeliveryStatus.HELD:
            ledger.finish_if_done(delivery)
        count += 1
    return count


def _follow(delivery) -> bool:
    verdict = signals.ask_owner(delivery)
    if verdict == "stop":
        return ledger.end(delivery, DeliveryStatus.STOPPED, "the run ended", "cancelled")
    if verdict == "hold" and delivery.status == DeliveryStatus.SENDING:
        sending.hold(delivery)
        return True
    if verdict == "go" and delivery.status == DeliveryStatus.HELD:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.HELD).update(
            status=DeliveryStatus.SENDING
        )
        jobs.enqueue(delivery.pk, settings.SEND_JOBS)
        return True
    return False


def follow_owners() -> int:
    return sum(_follow(d) for d in Delivery.objects.filter(status__in=OPEN_DELIVERY))


def requeue_idle() -> int:
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.SEND_LEASE_SECONDS)
    live = Q(status=ChunkStatus.CLAIMED, lease_until__gte=now)
    claimable = Q(status=ChunkStatus.PENDING) | Q(status=ChunkStatus.CLAIMED, lease_until__lt=now)
    count = 0
    for delivery in Delivery.objects.filter(status=DeliveryStatus.SENDING):
        if delivery.jobs_enqueued_at and delivery.jobs_enqueued_at > now - lease:
            continue
        if delivery.not_before and delivery.not_before > now:
            continue  # quiet hours: sent from the morning
        chunks = delivery.chunks
        if not chunks.filter(claimable).exists():
            ledger.finish_if_done(delivery)
            continue
        if (
            chunks.filter(live).exists()
            and not chunks.filter(status=ChunkStatus.CLAIMED, lease_until__lt=now).exists()
        ):
            continue
        jobs.enqueue(delivery.pk, settings.SEND_JOBS)
        count += 1
    return count


def tick() -> dict:
    return {"expired": expire_due(), "followed": follow_owners(), "enqueued": requeue_idle()}
