"""The send job (design 3, 10): a wake-up call that re-reads PostgreSQL. ``send_delivery(id)``
claims chunks of the delivery one after the other and sends them (``channels.sending``) until
none is left, the delivery stops sending, or ``SEND_JOB_SECONDS`` passed (then it enqueues
itself again, so long deliveries share the workers). Any number run at once, on any machine:
chunks are claimed with committed leases. Enqueued on commit on the ``sending`` queue."""

import logging
import sys
import time
import uuid

import django_rq
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from channels import ledger, sending
from channels.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)


def queue():
    return django_rq.get_queue(f"{settings.RQ_QUEUE_PREFIX}sending", commit_mode="auto")


def _timeout():
    return settings.SEND_JOB_SECONDS + 20 * settings.SEND_LEASE_SECONDS + 600


def enqueue(delivery_id: int, jobs: int = 1) -> None:
    """Enqueue ``jobs`` send jobs when the current transaction commits."""
    Delivery.objects.filter(pk=delivery_id).update(jobs_enqueued_at=timezone.now())

    def send():
        for _ in range(jobs):
            queue().enqueue(send_delivery, delivery_id, job_timeout=_timeout())

    transaction.on_commit(send)


def send_delivery(delivery_id: int) -> str:
    close_old_connections()
    connections.close_all()
    try:
        from audiences import dynamic

        dynamic.ensure_current()
        return _loop(delivery_id)
    finally:
        connections.close_all()


def _loop(delivery_id):
    # The ledger thread commits while this one builds messages: hand the GIL over promptly.
    sys.setswitchinterval(0.001)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + settings.SEND_JOB_SECONDS
    while time.monotonic() < deadline:
        delivery = Delivery.objects.select_related("schema", "population").get(pk=delivery_id)
        if delivery.status != DeliveryStatus.SENDING:
            return f"not sending ({delivery.status})"
        if delivery.not_before and timezone.now() < delivery.not_before:
            return "waiting for the end of quiet hours (the tick enqueues it again)"
        claimed = ledger.claim(delivery, token, settings.SEND_LEASE_SECONDS)
        if claimed is None:
            ledger.finish_if_done(delivery)
            return "nothing left to claim"
        outcome = sending.send_chunk(delivery, *claimed, token)
        log.info("delivery %s chunk %s: %s", delivery_id, claimed[1], outcome)
        if outcome != "done":
            return outcome
        ledger.finish_if_done(delivery)
    with transaction.atomic():
        enqueue(delivery_id)
    return "more to send: enqueued again"
