"""What ``campaigns`` asks of the channels (design 10), keyword-only, in the caller's transaction.

- ``stage(*, population, channel, content, owner, test, category, throttle_per_second,
  validity_hours, context) -> Delivery``: the delivery, its messages staged in one
  ``INSERT ... SELECT`` (``channels.staging``), counted by reason, 3 samples rendered; test mode
  stops there (status ``staged``). ``owner``: ``{"campaign_id", "campaign_name", "run_id",
  "activity_run_id", "activity_key"}``. Raises ``ValidationFailed`` when the population's schema
  has no address for the channel.
- ``start_sending(delivery)``: status ``sending``; send jobs enqueued on commit.
- ``cancel(delivery, note)``: a confirmation rejected: queued messages cancelled;
  ``expire_confirmation(delivery)``: nobody confirmed in the validity window: queued expired.
- ``sent_population(delivery, label)`` / ``staged_population(delivery, label)``: populations of
  the recipients sent to / staged (not excluded), for the activity's ``out``.
- ``tick() -> dict``: what the reconciler's tick does for deliveries (``channels.tick``).
- ``progress(delivery) -> dict``: ``channels.reports.counts``.
"""

import datetime

from django.conf import settings
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audiences import dynamic, populations
from channels import jobs, ledger, pressure, reports, sending, staging
from channels.models import Delivery, DeliveryStatus, MessageStatus
from config.errors import ValidationFailed

SAMPLES = 3


def chunk_size(throttle_per_second) -> int:
    """At most ``SEND_CHUNK_SIZE``, and small enough to be sent within half a lease at the
    throttled rate (so a chunk never outlasts its lease)."""
    size = settings.SEND_CHUNK_SIZE
    if throttle_per_second:
        size = min(size, max(1, int(throttle_per_second * settings.SEND_LEASE_SECONDS / 2)))
    return max(1, size)


def _address_field(schema, channel):
    field = (schema.targeting or {}).get(channel)
    if not field:
        raise ValidationFailed(
            [{"path": "schema", "message": f"{schema.name} has no {channel} address (targeting)"}]
        )
    return field


def stage(
    *,
    population,
    channel,
    content,
    owner,
    test=False,
    category="marketing",
    throttle_per_second=None,
    validity_hours=12,
    context=None,
    engagement=None,
) -> Delivery:
    """``engagement``: ``{"frequency_cap", "control_group", "goal", "timezone"}`` (issue 13)."""
    now = timezone.now()
    engagement = engagement or {}
    delivery = Delivery.objects.create(
        channel=channel,
        category=category,
        test=test,
        status=DeliveryStatus.STAGED,
        schema=population.schema,
        population=population,
        address_field=_address_field(population.schema, channel),
        content=content,
        context=context or {},
        throttle_per_second=throttle_per_second,
        validity_hours=validity_hours,
        chunk_size=chunk_size(throttle_per_second),
        staged_at=now,
        expires_at=now + datetime.timedelta(hours=validity_hours),
        frequency_cap=engagement.get("frequency_cap"),
        control_group=engagement.get("control_group"),
        control_seed=_seed(owner),
        goal=engagement.get("goal"),
        timezone=engagement.get("timezone") or "",
        **owner,
    )
    counts = staging.stage(delivery, population)
    delivery.targeted, delivery.staged = counts["targeted"], counts["staged"]
    delivery.excluded = counts["excluded"]
    delivery.samples = samples(delivery)
    delivery.save(update_fields=["targeted", "staged", "excluded", "samples"])
    pressure.hold_until_morning(delivery)
    return delivery


def _seed(owner) -> str:
    """The holdout's seed: the run and activity, so staging the same run again draws the same
    control group."""
    if owner.get("run_id"):
        return f"run{owner['run_id']}:{owner.get('activity_key', '')}"
    return ""


def render_for(delivery, key, address, *, message_id=None, proof=False) -> dict:
    """The rendered parts for one record of the delivery's schema (samples, previews, proofs)."""
    from channels import profiles

    templates = sending.templates_of(delivery)
    profile = profiles.load_profiles(delivery.schema, [key], templates.profile_links).get(str(key))
    target = {}
    if templates.uses_target:
        target = profiles.load_targets(delivery.population, [key]).get(str(key), {})
    context = sending.context_for(delivery, profile, target, message_id, proof=proof)
    try:
        return {"key": str(key), "address": address, **templates.render(context)}
    except sending.RenderError as exc:
        return {"key": str(key), "address": address, "error": str(exc)}


def samples(delivery) -> list[dict]:
    rows = delivery.messages.filter(status=MessageStatus.QUEUED).order_by("id")[:SAMPLES]
    return [render_for(delivery, m.key, m.address, message_id=m.pk) for m in rows]


def start_sending(delivery) -> Delivery:
    updated = Delivery.objects.filter(
        pk=delivery.pk, status__in=(DeliveryStatus.STAGED, DeliveryStatus.CONFIRMING)
    ).update(status=DeliveryStatus.SENDING, started_at=timezone.now())
    if updated:
        delivery.status = DeliveryStatus.SENDING
        if delivery.staged:
            jobs.enqueue(delivery.pk, min(settings.SEND_JOBS, delivery.chunks.count()))
        else:
            ledger.finish_if_done(delivery)
    return delivery


def await_confirmation(delivery) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CONFIRMING)
    delivery.status = DeliveryStatus.CONFIRMING
    return delivery


def cancel(delivery, note) -> bool:
    return ledger.end(delivery, DeliveryStatus.CANCELLED, note, MessageStatus.CANCELLED)


def expire_confirmation(delivery) -> bool:
    note = "nobody confirmed the send within its validity window"
    return ledger.end(delivery, DeliveryStatus.CANCELLED, note, MessageStatus.EXPIRED)


def _population(delivery, statuses, label):
    model = dynamic.get_model(delivery.schema.name)
    from django.db import connection

    key_type = model._meta.pk.db_type(connection)
    keys = RawSQL(
        f"SELECT key::{key_type} FROM channels_message WHERE delivery_id = %s AND status = ANY(%s)",
        [delivery.pk, list(statuses)],
    )
    queryset = model.objects.filter(pk__in=keys)
    return populations.materialize(queryset=queryset, schema=delivery.schema, label=label)


def sent_population(delivery, label=""):
    return _population(delivery, [MessageStatus.SENT], label)


def staged_population(delivery, label=""):
    return _population(delivery, [MessageStatus.QUEUED], label)


def progress(delivery) -> dict:
    return reports.counts(delivery)


def tick() -> dict:
    from channels import tick as ticking

    return ticking.tick()
