"""The forecast of a campaign before it is published (issue 15, design 6 ``campaigns/{id}/forecast/``).

``build(campaign, *, user, now=None, start=True) -> dict`` answers three questions, from rows
already in PostgreSQL (never a loop over recipients: every count is one aggregate query):

1. **Volumes per branch**: the counts of every transition in the latest test run of this very
   definition (same ``content_hash``: canvas positions and labels aside) started less than
   ``FORECAST_TEST_RUN_MAX_AGE`` ago, and for each channel activity the recipients staged
   (targeted, excluded by reason). When there is none, ``start`` starts a fresh one through
   ``services.test_run`` (as ``user``: it needs ``campaigns.run_campaign`` and a state where test
   runs apply; otherwise a note says why not) and the answer says it is running: ask again.
2. **The send load**: messages per channel and per hour over the next ``HORIZON_HOURS`` (7 days,
   from the start of the current hour). Each launch of the schedule in that window
   (``campaigns.schedules``; a draft as if published now: ``asap`` and a past ``once`` launch now)
   sends each channel activity's staged count, starting at the launch time, at its
   ``throttle_per_second`` (none: all within the launch's hour), until everything is sent or
   its ``validity_hours`` end. Stacked with the load of every other campaign: their sendings
   in progress (queued messages of live deliveries, from now, at their throttle, until they
   expire) and the launches of every scheduled or live campaign in the window (counts of their
   latest live run, else of their latest test run). A signal campaign's launches cannot be
   foreseen (a note says so). The provider's ``hourly_limit`` is not applied to the curves: they
   are what is asked of the provider, so that the warning below can say by how much.
3. **Warnings** (``{"code", "message", "activity", "channel"}``), also repeated on publish:
   - ``throttle_window``: a channel activity's staged count exceeds what its rate can send in its
     validity window (rate: ``throttle_per_second``, bounded by the provider's hourly limit);
     1,000,000 at 10/s in 12 h: at most 432,000 go, 568,000 would expire;
   - ``hourly_limit``: the combined load of a channel exceeds its provider's ``hourly_limit``
     in some hour of the window (the peak and the number of such hours);
   - ``frequency_cap``: a marketing pressure rule ``{"messages": K, "days": D}`` (the definition's
     ``frequency_cap``, else the ``FREQUENCY_CAP`` setting) would exclude most (more than half)
     of an activity's audience: recipients already sent K marketing messages in the last D days,
     or a schedule launching more than K times in D days. With no cap configured it is skipped
     and a note says so;
   - ``no_launch``: a recurring (or one-off) schedule with no launch in its validity window.

``warnings(campaign, *, user, now=None)`` is the list alone, without starting a test run.
"""

import datetime as dt
import itertools
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Subquery
from django.utils import timezone

from audiences import durations
from campaigns import definitions, diffs, reads, schedules
from campaigns.activities import registry
from campaigns.models import FINAL_RUN, Campaign, CampaignStatus, Run, RunStatus
from campaigns.versions import latest_version, live_schedule
from channels import providers
from channels.config import CHANNELS
from channels.models import Delivery, DeliveryStatus, Message, MessageStatus
from config.errors import DomainError

C = CampaignStatus
HOUR = dt.timedelta(hours=1)
HORIZON_HOURS = 7 * 24
MOST = 0.5  # a frequency cap excluding more than this share of an audience is worth a warning
LIVE = (C.SCHEDULED, C.LIVE)
SENDING = (DeliveryStatus.SENDING, DeliveryStatus.CONFIRMING)


@dataclass(frozen=True)
class Send:
    """``count`` messages of ``channel`` from ``start`` at ``rate`` per second (None: at once)
    until ``validity_hours`` after ``start``."""

    channel: str
    start: dt.datetime
    count: int
    rate: int | None
    validity_hours: int

    def sent_by(self, moment: dt.datetime) -> int:
        """How many have gone by ``moment``."""
        end = self.start + dt.timedelta(hours=self.validity_hours)
        moment = min(moment, end)
        if moment < self.start:
            return 0
        return min(self.count, int(self.rate * (moment - self.start).total_seconds()))

    def per_hour(self, hours: list[dt.datetime]) -> list[int]:
        """Messages sent in each hour ``[h, h + 1 h)`` of ``hours``; unthrottled: the start's hour."""
        if not self.rate:
            return [self.count if h <= self.start < h + HOUR else 0 for h in hours]
        return [self.sent_by(h + HOUR) - self.sent_by(h) for h in hours]


def _grid(now):
    start = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [start + HOUR * i for i in range(HORIZON_HOURS)]


def _warning(code, message, activity=None, channel=None):
    return {"code": code, "message": message, "activity": activity, "channel": channel}


def _n(number) -> str:
    return f"{number:,}"


# --- the test run: volumes per branch ----------------------------------------------------------


def _max_age():
    return durations.parse(getattr(settings, "FORECAST_TEST_RUN_MAX_AGE", "24h"))


def recent_test_run(campaign, definition, now):
    """The latest test run of this very definition started within ``FORECAST_TEST_RUN_MAX_AGE``."""
    wanted = diffs.content_hash(definition)
    since = now - _max_age()
    runs = (
        Run.objects.filter(campaign=campaign, test=True, created_at__gte=since)
        .select_related("version")
        .order_by("-created_at", "-id")
    )
    return next((r for r in runs if diffs.content_hash(r.version.definition) == wanted), None)


def _fresh_run(campaign, user, notes):
    from campaigns import services

    try:
        run = services.test_run(campaign=campaign, user=user)
    except DomainError as exc:
        notes.append(f"No recent test run, and none could be started: {exc}")
        return None
    notes.append(f"No recent test run: test run {run.pk} started; ask again when it has finished.")
    return run


def _run_data(run, fresh):
    if run is None:
        return None
    return {
        "id": run.pk,
        "status": run.status,
        "created_at": run.created_at.isoformat(),
        "finished": run.status in FINAL_RUN,
        "fresh": fresh,
    }


def _channel_kinds(definition):
    """``[(activity dict, channel)]`` of the definition's channel activities."""
    found = []
    for activity in definition.get("activities") or []:
        try:
            kind = registry.get(activity.get("type"))
        except (KeyError, LookupError):
            continue
        channel = getattr(kind, "channel", "")
        if channel in CHANNELS:
            found.append((activity, channel))
    return found


def _deliveries(run):
    if run is None:
        return {}
    return {d.activity_key: d for d in Delivery.objects.filter(run_id=run.pk)}


def _inbound(transitions, key):
    counts = [t["count"] for t in transitions if t["to"] == key and t["count"] is not None]
    return sum(counts) if counts else None


def _bounded(value, most):
    """A draft's option as the forecast can use it: an integer from 1 to ``most``, else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return min(value, most)


def _channel_rows(definition, run, transitions):
    deliveries = _deliveries(run)
    rows = []
    for activity, channel in _channel_kinds(definition):
        key = activity["id"]
        delivery = deliveries.get(key)
        if delivery is not None:
            targeted, staged, excluded = delivery.targeted, delivery.staged, delivery.excluded
        else:
            targeted = staged = _inbound(transitions, key)
            excluded = {}
        rows.append(
            {
                "activity": key,
                "channel": channel,
                "category": activity.get("category") or "marketing",
                "targeted": targeted,
                "staged": staged,
                "excluded": excluded or {},
                "throttle_per_second": _bounded(activity.get("throttle_per_second"), 2000),
                "validity_hours": _bounded(activity.get("validity_hours"), 720) or 12,
                "delivery": delivery.pk if delivery is not None else None,
            }
        )
    return rows


# --- launches -----------------------------------------------------------------------------------


def _window_launches(schedule, *, after, end, anchor):
    return list(
        itertools.takewhile(
            lambda t: t < end, schedules.launches(schedule, after=after, anchor=anchor)
        )
    )


def planned_launches(campaign, schedule, now, end) -> list[dt.datetime]:
    """The campaign's launches in ``[now, end)``: a live one's from ``next_launch_at``; a draft's
    as if published now (``asap`` and a ``once`` already past launch at publication)."""
    if campaign.status in LIVE:
        if campaign.next_launch_at is None or campaign.next_launch_at >= end:
            return []
        first = max(campaign.next_launch_at, now)
        later = _window_launches(schedule, after=first, end=end, anchor=campaign.published_at)
        return [first, *later]
    if campaign.status not in (C.DRAFT, C.PENDING_APPROVAL) or schedules.errors(schedule):
        return []
    frequency = schedule.get("frequency")
    if frequency == "signal":
        return []
    if frequency == "asap":
        return [now]
    found = _window_launches(schedule, after=now - dt.timedelta(seconds=1), end=end, anchor=now)
    if frequency == "once" and not found:
        if schedules.moment(schedule["at"], schedules.zone(schedule)) <= now:
            return [now]  # publication runs a one-off whose time has passed at once
    return found


def _no_launch(schedule) -> bool:
    """A schedule whose validity window holds no launch at all (``no_launch``)."""
    frequency = schedule.get("frequency")
    if frequency not in (*schedules.RECURRING, "once") or schedules.errors(schedule):
        return False
    tz = schedules.zone(schedule)
    if frequency == "once":
        at = schedules.moment(schedule["at"], tz)
        return next(schedules.launches(schedule, after=at - dt.timedelta(seconds=1)), None) is None
    begin = schedule.get("valid_from")
    after = schedules.moment(begin, tz) if begin else timezone.now()
    after -= dt.timedelta(seconds=1)
    return next(schedules.launches(schedule, after=after, anchor=after), None) is None


# --- the load -------------------------------------------------------------------------------------


def _sends_of(rows, launch_times):
    return [
        Send(r["channel"], at, r["staged"] or 0, r["throttle_per_second"], r["validity_hours"])
        for at in launch_times
        for r in rows
        if r["staged"]
    ]


def _in_flight(now, *, campaign_id=None, exclude=None):
    """Sends of live deliveries still under way: their queued messages, from now."""
    deliveries = Delivery.objects.filter(test=False, status__in=SENDING, expires_at__gt=now)
    if campaign_id is not None:
        deliveries = deliveries.filter(campaign_id=campaign_id)
    if exclude is not None:
        deliveries = deliveries.exclude(campaign_id=exclude)
    queued = (
        Message.objects.filter(delivery__in=deliveries, status=MessageStatus.QUEUED)
        .values("delivery")
        .annotate(n=Count("id"))
    )
    left = {row["delivery"]: row["n"] for row in queued}
    sends = []
    for d in deliveries.filter(pk__in=list(left)):
        hours = max(0.0, (d.expires_at - now).total_seconds() / 3600)
        sends.append(Send(d.channel, now, left[d.pk], d.throttle_per_second, hours))
    return sends


def _counts_of(campaign):
    """Per channel activity of a live campaign: the deliveries of its latest live run (else test
    run) that staged anything."""
    for test in (False, True):
        run = (
            Run.objects.filter(campaign=campaign, test=test, status=RunStatus.SUCCEEDED)
            .order_by("-created_at", "-id")
            .first()
        )
        if run is not None and Delivery.objects.filter(run_id=run.pk).exists():
            return [
                {
                    "channel": d.channel,
                    "staged": d.staged,
                    "throttle_per_second": d.throttle_per_second,
                    "validity_hours": d.validity_hours,
                }
                for d in Delivery.objects.filter(run_id=run.pk)
            ]
    return []


def _others(campaign, now, end):
    sends = _in_flight(now, exclude=campaign.pk)
    for other in Campaign.objects.filter(status__in=LIVE).exclude(pk=campaign.pk):
        launch_times = planned_launches(other, live_schedule(other), now, end)
        if launch_times:
            sends += _sends_of(_counts_of(other), launch_times)
    return sends


def _sum(sends, channel, hours):
    totals = [0] * len(hours)
    for send in sends:
        if send.channel == channel:
            totals = [a + b for a, b in zip(totals, send.per_hour(hours), strict=True)]
    return totals


def load(mine, others, hours) -> list[dict]:
    """Per channel: this campaign's, the others' and the total messages per hour."""
    result = []
    for channel in CHANNELS:
        this, rest = _sum(mine, channel, hours), _sum(others, channel, hours)
        if not any(this) and not any(rest):
            continue
        total = [a + b for a, b in zip(this, rest, strict=True)]
        result.append(
            {
                "channel": channel,
                "hourly_limit": providers.hourly_limit(channel),
                "campaign": this,
                "others": rest,
                "total": total,
                "campaign_messages": sum(this),
                "other_messages": sum(rest),
                "peak": max(total),
                "peak_at": hours[total.index(max(total))].isoformat(),
            }
        )
    return result


# --- warnings ----------------------------------------------------------------------------------


def _rate(row):
    """Messages per second the activity can reach: its throttle, bounded by the provider."""
    rates = [row["throttle_per_second"]] if row["throttle_per_second"] else []
    limit = providers.hourly_limit(row["channel"])
    if limit:
        rates.append(limit / 3600)
    return min(rates) if rates else None


def throttle_warnings(rows) -> list[dict]:
    found = []
    for row in rows:
        rate, staged = _rate(row), row["staged"] or 0
        if not rate:
            continue
        capacity = int(rate * row["validity_hours"] * 3600)
        if staged > capacity:
            shown = f"{rate:g}/s" if row["throttle_per_second"] == rate else (
                f"{rate * 3600:,.0f}/h (the {row['channel']} provider's hourly limit)")  # fmt: skip
            found.append(
                _warning(
                    "throttle_window",
                    f"{row['activity']}: {_n(staged)} recipients at {shown} cannot be sent in "
                    f"{row['validity_hours']} h: at most {_n(capacity)} go, "
                    f"{_n(staged - capacity)} would expire.",
                    row["activity"],
                    row["channel"],
                )
            )
    return found


def limit_warnings(curves, hours) -> list[dict]:
    found = []
    for curve in curves:
        limit = curve["hourly_limit"]
        over = [i for i, n in enumerate(curve["total"]) if limit and n > limit]
        if not over:
            continue
        peak = max(over, key=lambda i: curve["total"][i])
        found.append(
            _warning(
                "hourly_limit",
                f"The {curve['channel']} provider's hourly limit ({_n(limit)}/h) is exceeded in "
                f"{len(over)} hour(s) of the next 7 days; the most at "
                f"{hours[peak]:%Y-%m-%d %H:%M} UTC: {_n(curve['total'][peak])} messages "
                f"({_n(curve['campaign'][peak])} from this campaign, "
                f"{_n(curve['others'][peak])} from others). The excess waits and may expire.",
                channel=curve["channel"],
            )
        )
    return found


def frequency_cap(definition):
    """``(messages, days)`` of the pressure rule in force, or None (read defensively: the rule
    itself belongs to the channels' engagement issue)."""
    cap = definition.get("frequency_cap") or getattr(settings, "FREQUENCY_CAP", None)
    if not isinstance(cap, dict):
        return None
    try:
        messages, days = int(cap.get("messages")), int(cap.get("days"))
    except (TypeError, ValueError):
        return None
    return (messages, days) if messages > 0 and days > 0 else None


def capped(delivery_id, schema_id, messages, days, now) -> int:
    """Staged recipients of the delivery already sent ``messages`` marketing messages in the
    last ``days`` days (one query)."""
    heavy = (
        Message.objects.filter(
            delivery__schema_id=schema_id,
            delivery__test=False,
            delivery__category="marketing",
            status=MessageStatus.SENT,
            sent_at__gte=now - dt.timedelta(days=days),
        )
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gte=messages)
        .values("key")
    )
    return Message.objects.filter(
        delivery_id=delivery_id, status=MessageStatus.QUEUED, key__in=Subquery(heavy)
    ).count()


def _cap_warning(row, excluded, audience, cap):
    messages, days = cap
    return _warning(
        "frequency_cap",
        f"{row['activity']}: the frequency cap ({messages} messages in {days} days) would "
        f"exclude {_n(excluded)} of {_n(audience)} recipients.",
        row["activity"],
        row["channel"],
    )


def cap_warnings(definition, rows, schedule, now, notes) -> list[dict]:
    cap = frequency_cap(definition)
    if cap is None:
        notes.append("No frequency cap is configured (FREQUENCY_CAP): its check was skipped.")
        return []
    messages, days = cap
    found = []
    schemas = dict(
        Delivery.objects.filter(pk__in=[r["delivery"] for r in rows if r["delivery"]]).values_list(
            "pk", "schema_id"
        )
    )
    for row in rows:
        if row["category"] != "marketing" or not row["targeted"]:
            continue
        counted = row["excluded"].get("frequency_cap")
        if counted is not None:  # the staging rule exists and counted it
            if counted > MOST * row["targeted"]:
                found.append(_cap_warning(row, counted, row["targeted"], cap))
            continue
        if row["delivery"] and row["staged"]:
            excluded = capped(row["delivery"], schemas[row["delivery"]], messages, days, now)
            if excluded > MOST * row["staged"]:
                found.append(_cap_warning(row, excluded, row["staged"], cap))
    recurring = schedule.get("frequency") in schedules.RECURRING and not schedules.errors(schedule)
    window = _window_launches(
        schedule, after=now, end=now + dt.timedelta(days=days), anchor=now
    ) if recurring else []  # fmt: skip
    if len(window) > messages:
        found.append(
            _warning(
                "frequency_cap",
                f"The schedule launches {len(window)} times in {days} days but the frequency cap "
                f"allows {messages} messages in {days} days: from launch {messages + 1} on, "
                "everyone already reached is excluded.",
            )
        )
    return found


def schedule_warnings(schedule) -> list[dict]:
    if not _no_launch(schedule):
        return []
    window = " to ".join(
        x for x in (schedule.get("valid_from"), schedule.get("valid_until")) if x
    )  # fmt: skip
    return [
        _warning(
            "no_launch",
            f"The {schedule['frequency']} schedule has no launch in its validity window"
            + (f" ({window})." if window else "."),
        )
    ]


# --- the whole forecast -----------------------------------------------------------------------


def _definition(campaign):
    if campaign.status in (C.DRAFT, C.PENDING_APPROVAL) or campaign.revision_opened_at:
        return definitions.export(campaign)
    version = latest_version(campaign)
    return version.definition if version is not None else definitions.export(campaign)


def _unreadable(campaign, now, why):
    hours = _grid(now)
    return {
        "campaign": campaign.pk, "generated_at": now.isoformat(), "run": None, "volumes": [],
        "channels": [], "launches": [], "hours": [h.isoformat() for h in hours], "load": [],
        "warnings": [], "notes": [why],
    }  # fmt: skip


def build(campaign, *, user, now=None, start=True) -> dict:
    """The forecast (module docstring)."""
    now = now or timezone.now()
    notes = []
    try:
        definition = _definition(campaign)
    except KeyError as exc:  # an activity of a kind no longer registered
        return _unreadable(campaign, now, f"The definition cannot be read (unknown kind {exc}).")
    schedule = definition.get("schedule") or campaign.schedule or {}
    run, fresh = recent_test_run(campaign, definition, now), False
    if run is None and start:
        run, fresh = _fresh_run(campaign, user, notes), True
    elif run is None:
        notes.append("No recent test run of this definition: volumes unknown.")
    elif run.status not in FINAL_RUN:
        notes.append(f"Test run {run.pk} is still {run.status}: counts so far.")
    transitions = reads.transitions(run) if run is not None else []
    rows = _channel_rows(definition, run, transitions)
    hours = _grid(now)
    end = hours[-1] + HOUR
    launch_times = planned_launches(campaign, schedule, now, end)
    if schedule.get("frequency") == "signal":
        notes.append("A signal campaign launches on trigger/: its launches are not forecast.")
    mine = _sends_of(rows, launch_times) + _in_flight(now, campaign_id=campaign.pk)
    curves = load(mine, _others(campaign, now, end), hours)
    warnings = [
        *throttle_warnings(rows),
        *limit_warnings(curves, hours),
        *cap_warnings(definition, rows, schedule, now, notes),
        *schedule_warnings(schedule),
    ]
    return {
        "campaign": campaign.pk,
        "generated_at": now.isoformat(),
        "run": _run_data(run, fresh),
        "volumes": transitions,
        "channels": rows,
        "launches": [t.astimezone(dt.UTC).isoformat() for t in launch_times],
        "hours": [h.isoformat() for h in hours],
        "load": curves,
        "warnings": warnings,
        "notes": notes,
    }


def warnings(campaign, *, user, now=None) -> list[dict]:
    """The warnings alone, from what exists (no test run is started): repeated on publish."""
    return build(campaign, user=user, now=now, start=False)["warnings"]
