"""Schedules (design 5.4, 11): each frequency over a year, DST gaps and folds in Europe/Paris and
America/New_York, validation at its path, and the tick with a controlled clock (two ticks launch
once, a tick down for days runs the missed launch once, overlaps and late launches are skipped
and recorded, valid_until completes the campaign)."""

import datetime as dt
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from campaigns import schedules, services
from campaigns.models import Campaign, CampaignStatus, Launch, Run, RunStatus
from campaigns.services import launching
from config.access import SYSTEM
from tests.campaigns.test_admin import document

UTC = dt.UTC
NEW_YEAR = dt.datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # 2027-01-01 00:00 in Paris


def year_2027(schedule):
    found = []
    for instant in schedules.launches(schedule, after=NEW_YEAR):
        if instant >= dt.datetime(2028, 1, 1, tzinfo=UTC):
            return found
        found.append(instant)
    return found


def local(instants, zone):
    return [i.astimezone(schedules.zone({"timezone": zone})).isoformat() for i in instants]


PARIS = {"timezone": "Europe/Paris"}
YEARLY = [
    ({"frequency": "daily", "times": ["09:00", "18:30"]}, 730),
    ({"frequency": "weekly", "days": ["mon", "thu"], "times": ["09:00"]}, 104),
    ({"frequency": "monthly", "day": 31, "times": ["09:00"]}, 12),  # last day of short months
    ({"frequency": "monthly", "day": "last", "times": ["09:00"]}, 12),
    ({"frequency": "monthly", "nth_weekday": [5, "tue"], "times": ["09:00"]}, 4),
    ({"frequency": "monthly", "nth_weekday": [-1, "fri"], "times": ["09:00"]}, 12),
    ({"frequency": "cron", "expression": "0 9 * * mon-fri"}, 261),
    ({"frequency": "every", "interval": "1d", "valid_from": "2027-01-01T12:00"}, 365),
    ({"frequency": "once", "at": "2027-06-01T09:00"}, 1),
    ({"frequency": "asap"}, 0),
    ({"frequency": "signal"}, 0),
]


@pytest.mark.parametrize(("schedule", "count"), YEARLY)
def test_each_frequency_over_a_year(schedule, count):
    found = year_2027({**PARIS, **schedule})
    assert len(found) == count
    assert found == sorted(set(found))  # in order, each instant once


def test_monthly_day_31_falls_on_the_last_day_and_fifth_tuesdays_skip_months():
    found = year_2027({**PARIS, "frequency": "monthly", "day": 31, "times": ["09:00"]})
    assert [d[:10] for d in local(found, "Europe/Paris")][:4] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
    ]
    tuesdays = year_2027(
        {**PARIS, "frequency": "monthly", "nth_weekday": [5, "tue"], "times": ["09:00"]}
    )
    assert [d[:10] for d in local(tuesdays, "Europe/Paris")] == [
        "2027-03-30",
        "2027-06-29",
        "2027-08-31",
        "2027-11-30",
    ]


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/Paris", "2027-03-28", "2027-10-31"),
        ("America/New_York", "2027-03-14", "2027-11-07"),
    ],
)
def test_dst_gap_launches_after_it_and_a_fold_launches_once(zone, spring, autumn):
    gap = {"timezone": zone, "frequency": "daily", "times": ["02:30"]}
    days = {d[:10]: d for d in local(year_2027(gap), zone)}
    assert days[spring][11:] in ("03:00:00+02:00", "03:00:00-04:00")  # the first instant after
    fold = {
        "timezone": zone,
        "frequency": "daily",
        "times": ["01:30"] if "New" in zone else ["02:30"],
    }
    on_autumn = [d for d in local(year_2027(fold), zone) if d.startswith(autumn)]
    assert len(on_autumn) == 1  # occurs twice on the clock, launches once: the first
    first_offset = "+02:00" if zone == "Europe/Paris" else "-04:00"
    assert on_autumn[0].endswith(first_offset)
    cron = {"timezone": zone, "frequency": "cron", "expression": "*/30 2 * * *"}
    in_gap = [d for d in local(year_2027(cron), zone) if d.startswith(spring)]
    assert len(in_gap) == 1 and in_gap[0][11:16] == "03:00"  # 02:00 and 02:30 land once


def test_every_counts_exact_durations_across_dst():
    schedule = {**PARIS, "frequency": "every", "interval": "6h", "valid_from": "2027-03-27T12:00"}
    found = schedules.next_launches(schedule, after=NEW_YEAR, count=5)
    gaps = {b - a for a, b in zip(found, found[1:], strict=False)}
    assert gaps == {dt.timedelta(hours=6)}
    assert [t[11:16] for t in local(found, "Europe/Paris")] == [
        "12:00", "18:00", "00:00", "07:00", "13:00",  # exact hours: the clock jumped at 02:00
    ]  # fmt: skip


def test_validity_window_bounds_the_launches():
    schedule = {
        **PARIS,
        "frequency": "daily",
        "times": ["09:00"],
        "valid_from": "2027-02-01T00:00",
        "valid_until": "2027-02-10T23:59",
    }
    assert len(year_2027(schedule)) == 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("schedule", "path"),
    [
        ({"frequency": "daily", "times": ["09:00"], "timezone": "Mars/Olympus"}, "schedule.timezone"),
        ({"frequency": "cron", "expression": "every monday"}, "schedule.expression"),
        ({"frequency": "every", "interval": "1min"}, "schedule.interval"),
        (
            {"frequency": "daily", "times": ["09:00"], "valid_from": "2027-02-02T00:00",
             "valid_until": "2027-02-01T00:00"},
            "schedule.valid_until",
        ),
        ({"frequency": "once", "at": "next tuesday"}, "schedule.at"),
        ({"frequency": "weekly", "days": ["mon", "funday"], "times": ["09:00"]}, "schedule.days[1]"),
        ({"frequency": "monthly", "nth_weekday": [6, "tue"], "times": ["09:00"]}, "schedule.nth_weekday"),
    ],
)  # fmt: skip
def test_a_schedule_that_cannot_launch_is_refused_on_save(schedule, path, staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    body = {"name": "Bad schedule", "schedule": schedule, "activities": [], "transitions": []}
    response = client.post("/api/campaigns/", body, format="json")
    assert response.status_code == 400
    assert path in [e["path"] for e in response.json()["errors"]]


# --- the tick, with a controlled clock --------------------------------------------------------


@pytest.fixture
def published(schema, engine):
    """``published(schedule)``: a campaign published with that schedule (its runs go to Redis,
    which the engine fixture flushes; no worker runs them)."""

    def make(schedule, name="Recurring"):
        doc = {**document(schema, name), "schedule": {**PARIS, **schedule}}
        campaign = services.create_from_definition(document=doc, user=SYSTEM)
        return services.publish(campaign=campaign, user=SYSTEM)

    return make


def finish_runs(campaign):
    Run.objects.filter(campaign=campaign).update(status=RunStatus.SUCCEEDED)


pytestmark_tick = pytest.mark.django_db(transaction=True)


@pytestmark_tick
def test_publication_schedules_and_the_tick_launches_each_time_once(published):
    campaign = published({"frequency": "daily", "times": ["09:00"]})
    assert campaign.status == CampaignStatus.SCHEDULED and not campaign.runs.exists()
    due = campaign.next_launch_at
    assert due.astimezone(schedules.zone(PARIS)).strftime("%H:%M") == "09:00"
    assert launching.launch_due(now=due - dt.timedelta(seconds=1)) == 0
    assert launching.launch_due(now=due) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LIVE
    assert campaign.next_launch_at == due + dt.timedelta(days=1)
    run = campaign.runs.get()
    assert (run.started_at, run.test, run.version.number) == (due, False, 1)  # evaluated then
    assert launching.launch_due(now=due) == 0  # nothing due twice


@pytestmark_tick
def test_two_ticks_at_once_launch_once(published):
    campaign = published({"frequency": "daily", "times": ["09:00"]})
    due, results = campaign.next_launch_at, []

    def tick():
        try:
            results.append(launching.launch_due(now=due))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert campaign.runs.count() == 1 and Launch.objects.filter(campaign=campaign).count() == 1


@pytestmark_tick
def test_a_tick_down_for_three_days_runs_the_missed_launch_once(published):
    campaign = published({"frequency": "daily", "times": ["09:00"]})
    due = campaign.next_launch_at
    assert launching.launch_due(now=due + dt.timedelta(days=3, hours=1)) == 1
    launch = Launch.objects.get(campaign=campaign)
    assert (launch.status, launch.scheduled_for, launch.missed) == (
        "launched",
        due + dt.timedelta(days=3),  # the latest missed time, once
        3,
    )
    assert campaign.runs.count() == 1


@pytestmark_tick
def test_a_launch_later_than_the_catch_up_limit_is_skipped_and_recorded(published):
    campaign = published({"frequency": "weekly", "days": ["mon"], "times": ["09:00"]})
    due = campaign.next_launch_at
    assert launching.launch_due(now=due + dt.timedelta(days=3)) == 0
    launch = Launch.objects.get(campaign=campaign)
    assert launch.status == "skipped" and "SCHEDULE_CATCHUP_LIMIT" in launch.reason
    campaign.refresh_from_db()
    assert campaign.next_launch_at == due + dt.timedelta(days=7)


@pytestmark_tick
def test_an_overlapping_launch_is_skipped_with_its_reason(published):
    campaign = published({"frequency": "daily", "times": ["09:00"]})
    due = campaign.next_launch_at
    launching.launch_due(now=due)
    assert launching.launch_due(now=due + dt.timedelta(days=1)) == 0  # the first still runs
    skipped = Launch.objects.get(campaign=campaign, status="skipped")
    assert skipped.reason == "the previous run is still going"
    finish_runs(campaign)
    assert launching.launch_due(now=due + dt.timedelta(days=2)) == 1


@pytestmark_tick
def test_after_valid_until_the_campaign_completes(published):
    campaign = published(
        {"frequency": "daily", "times": ["09:00"], "valid_until": "2099-01-01T00:00"}
    )
    last = dt.datetime(2098, 12, 31, 8, 0, tzinfo=UTC)
    Campaign.objects.filter(pk=campaign.pk).update(next_launch_at=last)
    assert launching.launch_due(now=last) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.next_launch_at) == (CampaignStatus.COMPLETED, None)


@pytestmark_tick
def test_the_api_and_the_admin_show_the_next_launches_and_the_history(
    published, client, staff_user
):
    campaign = published({"frequency": "weekly", "days": ["tue"], "times": ["09:00"]}, "Weekly")
    api = APIClient()
    api.force_authenticate(staff_user)
    body = api.get(f"/api/campaigns/{campaign.pk}/").json()
    assert len(body["next_launches"]) == 5
    first = body["next_launches"][0]
    assert first["local"][11:16] == "09:00" and first["at"].endswith("+00:00")
    launching.launch_due(now=campaign.next_launch_at)
    history = api.get(f"/api/campaigns/{campaign.pk}/launches/").json()
    assert history["results"][0]["status"] == "launched" and history["results"][0]["run"]
    assert len(history["upcoming"]) == 5
    client.force_login(staff_user)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").text
    assert 'class="next-launches"' in page and 'class="launch-history"' in page


@pytest.mark.workers
@pytest.mark.timeout(120)
@pytestmark_tick
def test_an_every_campaign_runs_twice_and_takes_only_the_new_records(events, engine, settings):
    """Real rqworker and campaigns_tick processes: an ``every`` campaign launches by itself, and
    its second run's incremental query takes exactly the records added after the first."""
    from tests.campaigns import test_incremental_query as incremental
    from tests.campaigns.conftest import final_run, wait_for

    settings.SCHEDULE_MIN_INTERVAL = "1s"
    engine.env["SCHEDULE_MIN_INTERVAL"] = "1s"
    engine.worker()
    engine.tick()
    doc = incremental.campaign_doc(events, "Every few seconds")
    doc["schedule"] = {"frequency": "every", "interval": "6s", "timezone": "UTC"}
    campaign = services.create_from_definition(document=doc, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    first = final_run(wait_for(lambda: campaign.runs.filter(test=False).first(), timeout=30))
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert first.activity_runs.get(key="new").counts["out"] == 15  # every FR record
    incremental.insert(events.name, 21, 28)  # 6 of them FR
    second = final_run(
        wait_for(lambda: campaign.runs.filter(test=False).exclude(pk=first.pk).first(), timeout=30)
    )
    assert second.status == RunStatus.SUCCEEDED, second.error
    assert second.activity_runs.get(key="new").counts["out"] == 6
    assert second.started_at - first.started_at >= dt.timedelta(seconds=6)
    launches = list(Launch.objects.filter(campaign=campaign, status="launched"))
    assert len(launches) >= 2
