"""The shared throttle (design 10): message slots handed out by PostgreSQL, so every worker on
every machine shares one rate per delivery (``throttle_per_second``) and one per provider
(``hourly_limit``, across all deliveries of the channel).

Each bucket is a row of ``channels_ratebucket`` holding ``next_at``, the time of its next free
slot (the generic cell rate algorithm). ``reserve(buckets, n)`` takes ``n`` consecutive slots
from every bucket in one short committed statement each, with PostgreSQL's clock, and returns
when the first may go and the spacing between messages (seconds, relative to now). A bucket is
``(key, messages per second)``; a rate of None is no limit.
"""

from django.db import connection, transaction

RESERVE = """
INSERT INTO channels_ratebucket AS b (key, next_at)
VALUES (%(key)s, clock_timestamp() + make_interval(secs => %(span)s))
ON CONFLICT (key) DO UPDATE
SET next_at = GREATEST(b.next_at, clock_timestamp()) + make_interval(secs => %(span)s)
RETURNING extract(epoch FROM (b.next_at - clock_timestamp()))::float8
"""


def reserve(buckets, n: int) -> tuple[float, float]:
    """``(wait, spacing)``: sleep ``wait`` seconds, then send one message every ``spacing``."""
    wait, spacing = 0.0, 0.0
    for key, rate in buckets:
        if not rate:
            continue
        span = n / float(rate)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RESERVE, {"key": key, "span": span})
            ends_in = cursor.fetchone()[0]
        wait = max(wait, ends_in - span)
        spacing = max(spacing, 1.0 / float(rate))
    return max(wait, 0.0), spacing


def forget(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM channels_ratebucket WHERE key = %s", [key])
