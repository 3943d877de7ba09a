"""Launching scheduled campaigns (design 11): the tick's ``launch_due`` and what publication asks.

- ``launch_due(now=None) -> int``: every scheduled or live campaign whose ``next_launch_at``
  passed gets one ``Launch`` row (unique per campaign and time, so several ticks on several
  machines never launch twice) and, unless skipped, a live run bound to the latest published
  version, evaluated at the scheduled time (``Run.started_at``). Launch times missed while nothing
  ran are run **once** (the latest; the row counts the others in ``missed``), or skipped when the
  latest is later than ``SCHEDULE_CATCHUP_LIMIT``; a launch whose previous run is still going is
  skipped. Skips are recorded with their reason. Then ``next_launch_at`` moves on; a recurring
  schedule with no launch left (``valid_until`` passed) completes the campaign.
- ``first_launch(schedule, *, now, anchor) -> datetime | None``: the first launch time at or
  after ``now`` (None: launch now, or never).
- ``upcoming(campaign, count=5) -> [datetime]``: the next launches, for the admin and the API.
"""

import itertools

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audiences import durations
from campaigns import schedules
from campaigns.models import Campaign, CampaignStatus, Launch, LaunchStatus, Run, RunStatus
from campaigns.versions import latest_version, live_schedule
from config.access import SYSTEM

C = CampaignStatus
GOING = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING, RunStatus.PAUSED)
MAX_MISSED = 100_000  # missed launch times counted after a long outage, at most


def first_launch(schedule, *, now, anchor=None):
    if schedule.get("frequency") in ("asap", "signal"):
        return None
    just_before = now - timezone.timedelta(seconds=1)
    return next(schedules.launches(schedule, after=just_before, anchor=anchor or now), None)


def upcoming(campaign, count=5) -> list:
    schedule = live_schedule(campaign)
    if campaign.status in (C.SCHEDULED, C.LIVE, C.PAUSED):
        start = campaign.next_launch_at
        if start is None:
            return []
        later = schedules.next_launches(
            schedule, after=start, count=count - 1, anchor=campaign.published_at
        )
        return [start, *later]
    if campaign.status != C.DRAFT or schedules.errors(schedule):
        return []
    now = timezone.now()
    first = first_launch(schedule, now=now)
    if first is None:
        return []
    return [first, *schedules.next_launches(schedule, after=first, count=count - 1, anchor=now)]


def _slots(schedule, due, now, anchor):
    later = itertools.takewhile(
        lambda t: t <= now, schedules.launches(schedule, after=due, anchor=anchor)
    )
    missed = list(itertools.islice(later, MAX_MISSED))
    return (missed[-1] if missed else due), len(missed)


def _record(campaign, when, status, reason="", missed=0, run=None):
    try:
        with transaction.atomic():
            return Launch.objects.create(
                campaign=campaign,
                scheduled_for=when,
                status=status,
                reason=reason[:200],
                missed=missed,
                run=run,
            )
    except IntegrityError:  # another tick recorded this time: it is theirs
        return None


def _skip_reason(campaign, latest, now):
    limit = durations.parse(settings.SCHEDULE_CATCHUP_LIMIT)
    if latest + limit < now:
        return f"missed by more than SCHEDULE_CATCHUP_LIMIT ({settings.SCHEDULE_CATCHUP_LIMIT})"
    if Run.objects.filter(campaign=campaign, test=False, status__in=GOING).exists():
        return "the previous run is still going"
    return ""


def _launch(campaign, now):
    from campaigns.services.running import start_run

    version = latest_version(campaign)
    schedule = version.definition["schedule"]
    latest, missed = _slots(schedule, campaign.next_launch_at, now, campaign.published_at)
    reason = _skip_reason(campaign, latest, now)
    launched = 0
    if reason:
        _record(campaign, latest, LaunchStatus.SKIPPED, reason, missed)
    elif (row := _record(campaign, latest, LaunchStatus.LAUNCHED, missed=missed)) is not None:
        row.run = start_run(
            campaign=campaign, version=version, user=SYSTEM, source="schedule", started_at=latest
        )
        row.save(update_fields=["run"])
        launched = 1
    _move_on(campaign, schedule, now)
    return launched


def _move_on(campaign, schedule, now):
    campaign.next_launch_at = next(
        schedules.launches(schedule, after=now, anchor=campaign.published_at), None
    )
    if campaign.next_launch_at is not None or schedule["frequency"] == "once":
        campaign.status = C.LIVE
    else:
        campaign.status = C.COMPLETED
    campaign.save(update_fields=["status", "next_launch_at"])


@transaction.atomic
def launch_due(now=None) -> int:
    """Launch what is due (module docstring); returns how many runs started."""
    now = now or timezone.now()
    due = Campaign.objects.select_for_update(skip_locked=True).filter(
        status__in=(C.SCHEDULED, C.LIVE), next_launch_at__lte=now
    )
    return sum(_launch(campaign, now) for campaign in due)


def record_immediate(campaign, run, when):
    """The launch row of a campaign that started at its publication (asap, a past once)."""
    _record(campaign, when, LaunchStatus.LAUNCHED, run=run)
