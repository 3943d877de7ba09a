"""The exclusion rules of issue 13, each one entry of ``channels.exclusions`` (design 9), in
this order after ``invalid_address``: ``suppressed``, ``opted_out`` (both before
``duplicate_address``, so a profile sharing a suppressed or opted-out address is counted under
that reason), then ``frequency_cap``, ``quiet_hours`` and ``control`` last (the holdout is drawn
from the recipients who would otherwise get the message).

- ``suppressed``: the address (as matched: lower-cased email, E.164) is in ``channels_suppression``
  for the channel: every category, transactional included.
- ``opted_out`` (marketing only): the profile opted out of the channel's marketing, or any
  profile (or an SMS STOP) opted its address out; under ``CONSENT_MODEL[channel] == "opt_in"``,
  also every profile without an opt-in record.
- ``frequency_cap`` (marketing only): the profile already has K marketing messages (any channel,
  any campaign; queued, sending, sent or unknown) within the last D days, counted from the
  ledger; K and D from the delivery's ``frequency_cap`` (the campaign's) else the
  ``FREQUENCY_CAP`` setting (made of ``FREQUENCY_CAP_MESSAGES`` / ``FREQUENCY_CAP_DAYS``; None:
  no cap).
- ``quiet_hours`` (marketing SMS and push): staged during ``QUIET_HOURS`` in the profile's time
  zone (``PROFILE_TIMEZONE_ATTRIBUTE`` when the schema has it and it names a known zone, else the
  campaign's) and the end of the quiet hours comes after the validity window: excluded. Those
  whose morning comes within the window stay queued, and the delivery waits (``not_before``,
  ``hold_until_morning``).
- ``control``: the delivery's ``control_group`` ``{"percent": P}``: round(P% of the recipients
  left) chosen by ``md5(seed || key)`` (the seed names the run and activity, so staging the same
  run again holds out the same recipients).

Every predicate is set-based: ``key``/``dedupe`` ``IN (subquery)``, hashed once per statement.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from channels import exclusions
from channels.consents import default_allows

MARKETING = "marketing"


def _suppressed(staging):
    return (
        "dedupe IN (SELECT x.address FROM channels_suppression x WHERE x.channel = %s)",
        [staging.channel],
    )


def _opted_out(staging):
    if staging.category != MARKETING:
        return "false", []
    schema_id, channel = staging.delivery.schema_id, staging.channel
    sql = (
        "(key::text IN (SELECT c.key FROM channels_consent c WHERE c.schema_id = %s "
        "AND c.channel = %s AND c.category = 'marketing' AND c.status = 'opt_out') "
        "OR dedupe IN (SELECT c.address FROM channels_consent c WHERE c.channel = %s "
        "AND c.category = 'marketing' AND c.status = 'opt_out' AND c.address <> ''))"
    )
    params = [schema_id, channel, channel]
    if not default_allows(channel):
        sql = (
            f"({sql} OR key::text NOT IN (SELECT c.key FROM channels_consent c WHERE "
            "c.schema_id = %s AND c.channel = %s AND c.category = 'marketing' "
            "AND c.status = 'opt_in'))"
        )
        params += [schema_id, channel]
    return sql, params


def cap_of(delivery) -> tuple[int, int]:
    """``(messages, days)`` of the delivery's cap (0 messages: none)."""
    cap = delivery.frequency_cap or getattr(settings, "FREQUENCY_CAP", None) or {}
    return int(cap.get("messages") or 0), int(cap.get("days") or 0)


def _frequency_cap(staging):
    messages, days = cap_of(staging.delivery)
    if staging.category != MARKETING or messages <= 0 or days <= 0:
        return "false", []
    since = (staging.delivery.staged_at or timezone.now()) - datetime.timedelta(days=days)
    return (
        "key::text IN (SELECT m.key FROM channels_message m JOIN channels_delivery d "
        "ON d.id = m.delivery_id WHERE d.schema_id = %s AND d.category = 'marketing' "
        "AND NOT d.test AND d.id <> %s AND m.status IN ('queued', 'sending', 'sent', 'unknown') "
        "AND COALESCE(m.sent_at, d.staged_at) >= %s GROUP BY m.key HAVING count(*) >= %s)",
        [staging.delivery.schema_id, staging.delivery.pk, since, messages],
    )


def quiet_window() -> tuple[datetime.time, datetime.time] | None:
    """``QUIET_HOURS`` (``"21:00-08:00"``) as two times, None when empty."""
    text = (settings.QUIET_HOURS or "").strip()
    if not text:
        return None
    start, _, end = text.partition("-")
    return datetime.time.fromisoformat(start.strip()), datetime.time.fromisoformat(end.strip())


def campaign_zone(delivery) -> str:
    name = delivery.timezone or settings.TIME_ZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return name


def _literal(value) -> str:
    """A SQL literal of a value this module made itself (a validated zone, an ISO time)."""
    return "'" + str(value).replace("'", "''") + "'"


def _zone_sql(delivery, column):
    """The SQL time zone of a profile row ``r``: its attribute when known, else the campaign's."""
    fallback = _literal(campaign_zone(delivery))
    if not column:
        return fallback
    return (
        f'(CASE WHEN r."{column}" IN (SELECT name FROM pg_timezone_names) '
        f'THEN r."{column}" ELSE {fallback} END)'
    )


def _quiet_sql(zone, now, window):
    """``(in quiet hours, the end of them)`` at ``now`` in ``zone`` (SQL expressions). The
    times are literals: made here from settings and the clock, never from user text."""
    start, end = (f"{_literal(t.isoformat())}::time" for t in window)
    local = f"({_literal(now.isoformat())}::timestamptz AT TIME ZONE {zone})"
    t = f"{local}::time"
    quiet = (
        f"(CASE WHEN {start} > {end} THEN ({t} >= {start} OR {t} < {end}) "
        f"ELSE ({t} >= {start} AND {t} < {end}) END)"
    )
    morning = (
        f"(({local}::date + {end} + CASE WHEN {t} >= {end} THEN interval '1 day' "
        f"ELSE interval '0' END) AT TIME ZONE {zone})"
    )
    return quiet, morning


def timezone_column(delivery) -> str | None:
    name = settings.PROFILE_TIMEZONE_ATTRIBUTE
    if name and delivery.schema.attributes.filter(name=name).exists():
        return name
    return None


def quiet_sql(delivery) -> str:
    """SQL selecting ``(pk, morning)`` of the schema's records in quiet hours now."""
    from audiences import dynamic

    model = dynamic.get_model(delivery.schema.name)
    zone = _zone_sql(delivery, timezone_column(delivery))
    quiet, morning = _quiet_sql(zone, delivery.staged_at or timezone.now(), quiet_window())
    return (
        f'SELECT r."{model._meta.pk.column}" AS pk, {morning} AS morning '
        f'FROM "{model._meta.db_table}" r WHERE {quiet}'
    )


def _applies_quiet(staging) -> bool:
    return (
        staging.category == MARKETING
        and staging.channel in ("sms", "push")
        and quiet_window() is not None
    )


def _quiet_hours(staging):
    if not _applies_quiet(staging):
        return "false", []
    return (
        f"key IN (SELECT q.pk FROM ({quiet_sql(staging.delivery)}) q WHERE q.morning > %s)",
        [staging.delivery.expires_at],
    )


def hold_until_morning(delivery) -> None:
    """After staging: the delivery waits for the latest morning of its queued recipients still
    in quiet hours (``not_before``); nothing to wait for outside quiet hours."""
    from channels.exclusions import Staging

    staging = Staging(delivery, delivery.channel, delivery.category, "")
    if delivery.test or not delivery.staged or not _applies_quiet(staging):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(q.morning) FROM ({quiet_sql(delivery)}) q WHERE q.pk::text IN "
            "(SELECT key FROM channels_message WHERE delivery_id = %s AND status = 'queued')",
            [delivery.pk],
        )
        (morning,) = cursor.fetchone()
    if morning is not None:
        delivery.not_before = morning
        delivery.save(update_fields=["not_before"])


def _control(staging):
    group = staging.delivery.control_group or {}
    percent = group.get("percent") if isinstance(group, dict) else None
    if not percent:
        return "false", []
    return (
        "reason IS NULL AND row_number() OVER (PARTITION BY reason IS NULL "
        "ORDER BY md5(%s || key::text), key) <= "
        "round(%s * count(*) OVER (PARTITION BY reason IS NULL) / 100.0)",
        [staging.delivery.control_seed or str(staging.delivery.pk), float(percent)],
    )


def register() -> None:
    """Add this module's rules to ``channels.exclusions`` (idempotent: same reason, same slot)."""
    add = exclusions.register
    Rule = exclusions.Exclusion
    add(Rule("suppressed", _suppressed, "Suppressed address"), before="duplicate_address")
    add(Rule("opted_out", _opted_out, "Opted out"), before="duplicate_address")
    add(Rule("frequency_cap", _frequency_cap, "Frequency cap reached"))
    add(Rule("quiet_hours", _quiet_hours, "Quiet hours until past validity"))
    add(Rule("control", _control, "Control group (held out)"))


def excluded_now(delivery, number: int) -> dict:
    """``{message id: reason}`` of the chunk's queued messages whose address was suppressed or
    whose profile (or address) opted out since staging: re-checked as the chunk is sent, so an
    unsubscribe during a long send takes effect at once (one query per chunk)."""
    from channels import addresses

    dedupe = addresses.dedupe_sql(delivery.channel, "m.address")
    marketing = delivery.category == MARKETING
    sql = (
        f"SELECT m.id, CASE WHEN {dedupe} IN (SELECT x.address FROM channels_suppression x "
        "WHERE x.channel = %(c)s) THEN 'suppressed' ELSE 'opted_out' END "
        "FROM channels_message m WHERE m.delivery_id = %(d)s AND m.chunk = %(n)s "
        f"AND m.status = 'queued' AND ({dedupe} IN (SELECT x.address FROM channels_suppression x "
        "WHERE x.channel = %(c)s) OR (%(marketing)s AND (m.key IN (SELECT c.key FROM "
        "channels_consent c WHERE c.schema_id = %(s)s AND c.channel = %(c)s AND c.category = "
        f"'marketing' AND c.status = 'opt_out') OR {dedupe} IN (SELECT c.address FROM "
        "channels_consent c WHERE c.channel = %(c)s AND c.category = 'marketing' "
        "AND c.status = 'opt_out' AND c.address <> ''))))"
    )
    params = {"c": delivery.channel, "d": delivery.pk, "n": number, "s": delivery.schema_id,
              "marketing": marketing}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())
