"""Every change of a message's fate, with the chunk's counters in the same transaction (so
progress is a sum over chunks, never a scan of the messages), and the end of a delivery.

- ``claim(delivery, token, lease) -> (chunk id, number) | None``: take the first pending chunk,
  or one whose lease ran out (its worker died). A taken-over chunk's messages still ``sending``
  become ``unknown`` first (they may have gone: never resent). Committed before returning.
- ``mark_sending(delivery, chunk_id, token, ids, lease) -> (verdict, marked ids)``: renew the
  lease and mark at most ``SEND_MARK_BATCH`` queued messages ``sending``, committed before the
  provider is called. ``verdict``: ``go``, ``lost`` (the lease is gone), ``expired`` (the
  validity window ended) or the delivery's status when it is no longer sending.
- ``record(delivery, chunk_id, outcomes)``: the final fates of a batch (only messages still
  ``queued`` or ``sending`` change); ``advance(...)`` records a batch and marks the next one in
  one commit (the sender's usual step).
- ``renew(chunk_id, token, lease) -> bool``; ``release(chunk_id, token)``; ``finish_chunk``.
- ``close_queued(delivery, status, note)``: every queued message becomes ``expired`` or
  ``cancelled`` (bulk, counters per chunk), pending chunks are done.
- ``finish_if_done(delivery) -> bool``: when no message is queued or sending, the delivery is
  finished and ``delivery_ended`` is sent on commit.
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from channels import signals
from channels.models import Delivery, DeliveryStatus, MessageStatus

COUNTED = ("sent", "failed", "unknown", "expired", "cancelled", "excluded")

CLAIM = """
WITH c AS (
  SELECT id, status FROM channels_chunk
  WHERE delivery_id = %(d)s
    AND (status = 'pending' OR (status = 'claimed' AND lease_until < clock_timestamp()))
  ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE channels_chunk k SET status = 'claimed', claimed_by = %(t)s, claims = k.claims + 1,
  lease_until = clock_timestamp() + make_interval(secs => %(lease)s)
FROM c WHERE k.id = c.id
RETURNING k.id, k.number, c.status
"""
LOST = """
WITH lost AS (
  UPDATE channels_message SET status = 'unknown',
    error = 'the worker sending it was lost; it may have gone, so it is never resent'
  WHERE delivery_id = %(d)s AND chunk = %(n)s AND status = 'sending' RETURNING 1)
UPDATE channels_chunk SET unknown = unknown + (SELECT count(*) FROM lost) WHERE id = %(c)s
"""
RENEW = """
UPDATE channels_chunk SET lease_until = clock_timestamp() + make_interval(secs => %(lease)s)
WHERE id = %(c)s AND claimed_by = %(t)s AND status = 'claimed'
RETURNING (SELECT status FROM channels_delivery WHERE id = %(d)s),
          (SELECT expires_at <= clock_timestamp() FROM channels_delivery WHERE id = %(d)s)
"""


def claim(delivery, token, lease):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM, {"d": delivery.pk, "t": token, "lease": lease})
        row = cursor.fetchone()
        if row is None:
            return None
        chunk_id, number, before = row
        if before == "claimed":
            cursor.execute(LOST, {"d": delivery.pk, "n": number, "c": chunk_id})
    return chunk_id, number


def _renew(cursor, delivery, chunk_id, token, lease):
    cursor.execute(RENEW, {"c": chunk_id, "t": token, "lease": lease, "d": delivery.pk})
    row = cursor.fetchone()
    if row is None:
        return "lost"
    status, expired = row
    if status != DeliveryStatus.SENDING:
        return status
    return "expired" if expired else "go"


def renew(delivery, chunk_id, token, lease) -> bool:
    with transaction.atomic(), connection.cursor() as cursor:
        return _renew(cursor, delivery, chunk_id, token, lease) == "go"


def mark_sending(delivery, chunk_id, token, ids, lease):
    with transaction.atomic(), connection.cursor() as cursor:
        verdict = _renew(cursor, delivery, chunk_id, token, lease)
        if verdict != "go" or not ids:
            return verdict, set()
        cursor.execute(
            "UPDATE channels_message SET status = 'sending', marked_at = clock_timestamp(), "
            "attempts = attempts + 1 WHERE id = ANY(%s) AND status = 'queued' RETURNING id",
            [list(ids)],
        )
        return "go", {r[0] for r in cursor.fetchall()}


ADVANCE = """
WITH recorded AS (
  UPDATE channels_message m SET status = v.status, provider_id = v.pid, error = v.err,
    reason = v.reason, sent_at = CASE WHEN v.status = 'sent' THEN clock_timestamp() END
  FROM (VALUES {values}) v(id, status, pid, err, reason)
  WHERE m.id = v.id AND m.status IN ('queued', 'sending') RETURNING m.status),
lease AS (
  UPDATE channels_chunk SET {counters},
    lease_until = CASE WHEN claimed_by = %(t)s AND status = 'claimed'
      THEN clock_timestamp() + make_interval(secs => %(lease)s) ELSE lease_until END
  WHERE id = %(c)s RETURNING claimed_by = %(t)s AND status = 'claimed' AS held),
state AS (
  SELECT COALESCE((SELECT held FROM lease), false) AS held, d.status,
    d.expires_at <= clock_timestamp() AS expired
  FROM channels_delivery d WHERE d.id = %(d)s),
marked AS (
  UPDATE channels_message SET status = 'sending', marked_at = clock_timestamp(),
    attempts = attempts + 1
  WHERE id = ANY(%(ids)s) AND status = 'queued'
    AND (SELECT held AND status = 'sending' AND NOT expired FROM state)
  RETURNING id)
SELECT (SELECT held FROM state), (SELECT status FROM state), (SELECT expired FROM state),
  ARRAY(SELECT id FROM marked)
"""


def advance(delivery, chunk_id, token, outcomes, ids, lease):
    """ONE statement, committed on its own (autocommit, durable): record ``outcomes`` (a batch
    sent, with the chunk's counters), renew the lease and mark ``ids`` (the next batch)
    ``sending``; returns ``(verdict, marked ids)`` as ``mark_sending``. Marked messages are
    committed before the provider is called; the sender submits this while it sends the batch
    before (``sending.ChunkSender.send_all``), so two batches at most are ever marked at once.
    (A counter is counted from the ``RETURNING`` of the same statement, so it matches the rows
    that changed.)"""
    values = (
        ", ".join(["(%s::bigint, %s, %s, %s, %s)"] * len(outcomes))
        or "(NULL::bigint, '', '', '', '')"
    )
    counters = ", ".join(
        f"{s} = {s} + (SELECT count(*) FROM recorded WHERE status = '{s}')" for s in COUNTED
    )
    sql = ADVANCE.format(values=values, counters=counters)
    params = {f"v{i}": v for i, v in enumerate(v for outcome in outcomes for v in outcome)}
    sql = (
        sql.replace("%s", "{}").format(*(f"%(v{i})s" for i in range(len(params))))
        if params
        else sql
    )
    params.update({"lease": lease, "c": chunk_id, "t": token, "d": delivery.pk, "ids": list(ids)})
    with connection.cursor() as cursor:  # autocommit: one round trip, committed durably
        if not settings.SEND_DURABLE_MARKS and not getattr(connection, "_marks_async", False):
            cursor.execute("SET synchronous_commit TO off")  # this session only
            connection._marks_async = True
        cursor.execute(sql, params)
        held, status, expired, marked = cursor.fetchone()
    if not held:
        return "lost", set()
    if status != DeliveryStatus.SENDING:
        return status, set()
    if expired:
        return "expired", set()
    return "go", set(marked or [])


def record(delivery, chunk_id, outcomes) -> None:
    """``outcomes``: ``[(message id, status, provider id, error, reason)]``. Committed without
    waiting for the disk (``synchronous_commit = off``): losing it in a PostgreSQL crash leaves
    the messages ``sending``, so they become ``unknown``, never resent."""
    if not outcomes:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")
        _record(cursor, chunk_id, outcomes)


def _record(cursor, chunk_id, outcomes):
    if not outcomes:
        return
    values = ", ".join(["(%s::bigint, %s, %s, %s, %s)"] * len(outcomes))
    cursor.execute(
        "UPDATE channels_message m SET status = v.status, provider_id = v.pid, "
        "error = v.err, reason = v.reason, "
        "sent_at = CASE WHEN v.status = 'sent' THEN clock_timestamp() END "
        f"FROM (VALUES {values}) v(id, status, pid, err, reason) "
        "WHERE m.id = v.id AND m.status IN ('queued', 'sending') RETURNING m.status",
        [v for outcome in outcomes for v in outcome],
    )
    changed = [r[0] for r in cursor.fetchall()]
    sets = ", ".join(f"{s} = {s} + %s" for s in COUNTED)
    cursor.execute(
        f"UPDATE channels_chunk SET {sets} WHERE id = %s",
        [changed.count(s) for s in COUNTED] + [chunk_id],
    )


def release(chunk_id, token) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_chunk SET status = 'pending', claimed_by = '', lease_until = NULL "
            "WHERE id = %s AND claimed_by = %s AND status = 'claimed'",
            [chunk_id, token],
        )


def finish_chunk(delivery, chunk_id, number, token) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_chunk SET status = 'done', lease_until = NULL "
            "WHERE id = %s AND claimed_by = %s AND NOT EXISTS (SELECT 1 FROM channels_message "
            "WHERE delivery_id = %s AND chunk = %s AND status IN ('queued', 'sending'))",
            [chunk_id, token, delivery.pk, number],
        )


def close_queued(delivery, status: str) -> int:
    """Every queued message of ``delivery`` becomes ``status`` (expired or cancelled)."""
    assert status in (MessageStatus.EXPIRED, MessageStatus.CANCELLED)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""WITH changed AS (
                  UPDATE channels_message SET status = %(s)s
                  WHERE delivery_id = %(d)s AND status = 'queued' RETURNING chunk),
                by_chunk AS (SELECT chunk, count(*) AS n FROM changed GROUP BY chunk)
                UPDATE channels_chunk c SET {status} = c.{status} + b.n,
                  status = CASE WHEN c.status = 'pending' THEN 'done' ELSE c.status END
                FROM by_chunk b WHERE c.delivery_id = %(d)s AND c.number = b.chunk
                RETURNING b.n""",
            {"s": status, "d": delivery.pk},
        )
        closed = sum(r[0] for r in cursor.fetchall())
        cursor.execute(
            "UPDATE channels_chunk SET status = 'done' WHERE delivery_id = %s AND status = 'pending'",
            [delivery.pk],
        )
    return closed


def finish_if_done(delivery) -> bool:
    with transaction.atomic():
        if delivery.messages.filter(
            status__in=(MessageStatus.QUEUED, MessageStatus.SENDING)
        ).exists():
            return False
        updated = Delivery.objects.filter(
            pk=delivery.pk, status__in=(DeliveryStatus.SENDING, DeliveryStatus.HELD)
        ).update(status=DeliveryStatus.FINISHED, finished_at=timezone.now())
        if updated:
            delivery.status = DeliveryStatus.FINISHED
            signals.ended(delivery)
    return bool(updated)


def end(delivery, status: str, note: str, fate: str) -> bool:
    """Close an open delivery as ``status`` (cancelled or stopped): queued messages get
    ``fate``; ``delivery_ended`` on commit. False when it was not open."""
    from channels.models import OPEN_DELIVERY

    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status__in=OPEN_DELIVERY).update(
            status=status, note=note, finished_at=timezone.now()
        )
        if not updated:
            return False
        close_queued(delivery, fate)
        delivery.status, delivery.note = status, note
        signals.ended(delivery)
    return True
