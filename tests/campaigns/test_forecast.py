"""The forecast of issue 15 (``campaigns.forecast``, ``GET campaigns/{id}/forecast/``): figures of
a fixture campaign computed by hand, each warning on its fixture, the publish answer repeating
them, and a fresh test run started through the API and read back once real workers finished it.

Fixtures write what a finished test run leaves (a test ``Run``, its ``ActivityRun`` counts, the
channel activity's test ``Delivery``) straight into PostgreSQL, so that volumes of a million are
cheap; the last test makes them with real workers instead."""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings

from campaigns import definitions, forecast, services
from campaigns.models import (
    ActivityRun,
    ActivityRunStatus,
    Campaign,
    CampaignStatus,
    Run,
    RunStatus,
    Version,
)
from channels.models import Delivery, DeliveryStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run
from tests.conftest import staff_with, token_client

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # a Tuesday
DAILY_0930 = {"frequency": "daily", "times": ["09:30"], "timezone": "UTC"}


def providers(email_limit=None):
    """``CHANNEL_PROVIDERS`` with the Outbox and an email hourly limit."""
    entry = {"BACKEND": "channels.providers.outbox.OutboxProvider"}
    return {
        "email": {**entry, "HOURLY_LIMIT": email_limit},
        "sms": dict(entry),
        "push": dict(entry),
    }


def doc(schema, name, schedule, channel="email", **options):
    message = (
        {"subject": "Hi", "html": "<p>Hi</p>"} if channel == "email" else {"text": "Hi"}
    )  # fmt: skip
    return {
        "name": name,
        "schedule": schedule,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name, "where": {"and": []}},
            {"id": "send", "type": channel, **message, "send_confirmation": False, **options},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": "send"}, {"from": "send", "to": "done"}],
    }


def finished_run(campaign, schema, staged, *, test=True, targeted=None, channel="email", at=None):
    """What a finished run of ``campaign``'s definition leaves: the run, its activity counts and
    its channel delivery (``staged`` recipients; for a live run, ``Message`` rows too)."""
    definition = definitions.export(campaign)
    version = Version.objects.create(campaign=campaign, definition=definition)
    run = Run.objects.create(
        campaign=campaign, version=version, test=test, status=RunStatus.SUCCEEDED,
        started_at=at or NOW, finished_at=at or NOW,
    )  # fmt: skip
    targeted = staged if targeted is None else targeted
    for key, kind, counts in (
        ("aud", "build_audience", {"out": targeted}),
        ("send", channel, {"out": staged}),
        ("done", "end", {}),
    ):
        ActivityRun.objects.create(
            run=run, key=key, type=kind, status=ActivityRunStatus.SUCCEEDED, counts=counts
        )
    options = next(a for a in definition["activities"] if a["id"] == "send")
    delivery = Delivery.objects.create(
        channel=channel, test=test, status=DeliveryStatus.STAGED if test else DeliveryStatus.FINISHED,
        campaign_id=campaign.pk, campaign_name=campaign.name, run_id=run.pk, activity_key="send",
        schema=schema, address_field="email", targeted=targeted, staged=staged,
        excluded={"no_address": targeted - staged} if targeted > staged else {},
        throttle_per_second=options["throttle_per_second"],
        validity_hours=options["validity_hours"],
    )  # fmt: skip
    return run, delivery


def messages(delivery, first, last, status="queued", sent_at=None):
    """Ledger rows for keys c<first>..c<last> of ``delivery`` (one INSERT ... SELECT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO channels_message (delivery_id, key, address, status, reason, attempts, "
            "provider_id, error, sent_at) SELECT %s, 'c' || i, 'c' || i || '@example.com', %s, "
            "'', 0, '', '', %s FROM generate_series(%s, %s) i",
            [delivery.pk, status, sent_at, first, last],
        )


def make_live(campaign, schedule, next_launch):
    definition = {**definitions.export(campaign), "schedule": schedule}
    Version.objects.create(campaign=campaign, number=1, definition=definition)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.LIVE, next_launch_at=next_launch, published_at=NOW - dt.timedelta(days=30),
        schedule=schedule,
    )  # fmt: skip
    campaign.refresh_from_db()
    return campaign


def create(schema, name, schedule, **options):
    return services.create_from_definition(
        document=doc(schema, name, schedule, **options), user=SYSTEM
    )


@pytest.fixture
def stacked(schema):
    """This campaign: daily at 09:30 UTC, 50,000 emails at 10/s for 12 h. Others: a live SMS
    delivery with 7,200 queued at 1/s; a weekly live campaign sending 5,000 unthrottled emails
    on Thursday 2026-12-03 at 10:00."""
    mine = create(schema, "Daily news", DAILY_0930, throttle_per_second=10, validity_hours=12)
    finished_run(mine, schema, 50_000, targeted=52_000, at=NOW - dt.timedelta(hours=2))

    texting = create(schema, "Texting", {"frequency": "asap"}, channel="sms", throttle_per_second=1)
    make_live(texting, {"frequency": "asap"}, None)
    _run, sms = finished_run(texting, schema, 7_200, test=False, channel="sms")
    Delivery.objects.filter(pk=sms.pk).update(
        status=DeliveryStatus.SENDING, expires_at=NOW + dt.timedelta(hours=12)
    )
    messages(sms, 1, 7_200)

    weekly_schedule = {
        "frequency": "weekly",
        "days": ["thu"],
        "times": ["10:00"],
        "timezone": "UTC",
    }
    weekly = create(schema, "Weekly", weekly_schedule)
    make_live(weekly, weekly_schedule, dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    finished_run(weekly, schema, 5_000, test=False, at=NOW - dt.timedelta(days=6))
    return mine


def curve(result, channel):
    return next(c for c in result["load"] if c["channel"] == channel)


@override_settings(CHANNEL_PROVIDERS=providers(email_limit=30_000))
def test_forecast_of_a_fixture_campaign_equals_the_figures_computed_by_hand(stacked):
    result = forecast.build(stacked, user=SYSTEM, now=NOW, start=False)

    # Volumes per branch, from the recent test run of this very definition.
    assert result["run"]["fresh"] is False
    by_edge = {(v["from"], v["port"]): v["count"] for v in result["volumes"]}
    assert by_edge == {("aud", "out"): 52_000, ("send", "out"): 50_000}
    (row,) = result["channels"]
    assert (row["targeted"], row["staged"], row["excluded"]) == (
        52_000,
        50_000,
        {"no_address": 2_000},
    )

    # 7 launches (Dec 1..7 at 09:30); 10/s = 36,000 an hour: 18,000 in the 09:00 hour (half of
    # it), the other 32,000 in the 10:00 hour (done at 10:53:20).
    assert len(result["launches"]) == 7
    assert result["launches"][0] == "2026-12-01T09:30:00+00:00"
    assert len(result["hours"]) == 168 and result["hours"][0] == "2026-12-01T00:00:00+00:00"
    email, sms = curve(result, "email"), curve(result, "sms")
    expected = [0] * 168
    for day in range(7):
        expected[24 * day + 9], expected[24 * day + 10] = 18_000, 32_000
    assert email["campaign"] == expected
    assert email["campaign_messages"] == 7 * 50_000

    # Others: the weekly campaign's 5,000 in one hour; the SMS delivery at 1/s, 3,600 an hour.
    others = [0] * 168
    others[24 * 2 + 10] = 5_000
    assert email["others"] == others
    assert sms["others"][:3] == [3_600, 3_600, 0] and sum(sms["others"]) == 7_200
    assert sms["campaign_messages"] == 0
    assert email["peak"] == 37_000 and email["peak_at"] == "2026-12-03T10:00:00+00:00"

    # 32,000 > 30,000 in the 10:00 hour of each of the 7 days.
    codes = [w["code"] for w in result["warnings"]]
    assert codes == ["hourly_limit"]
    assert result["warnings"][0]["message"] == (
        "The email provider's hourly limit (30,000/h) is exceeded in 7 hour(s) of the next 7 "
        "days; the most at 2026-12-03 10:00 UTC: 37,000 messages (32,000 from this campaign, "
        "5,000 from others). The excess waits and may expire."
    )
    assert any("No frequency cap" in n for n in result["notes"])


def test_throttle_times_validity_that_cannot_reach_everyone(schema):
    campaign = create(schema, "Million", DAILY_0930, throttle_per_second=10, validity_hours=12)
    finished_run(campaign, schema, 1_000_000)
    (warning,) = forecast.warnings(campaign, user=SYSTEM, now=NOW)
    assert warning == {
        "code": "throttle_window",
        "message": "send: 1,000,000 recipients at 10/s cannot be sent in 12 h: at most "
        "432,000 go, 568,000 would expire.",
        "activity": "send",
        "channel": "email",
    }
    # And the load stops at the validity window: 12 hours of 36,000 from 09:30 (18,000 first).
    email = curve(forecast.build(campaign, user=SYSTEM, now=NOW, start=False), "email")
    assert email["campaign"][9:23] == [18_000, *[36_000] * 11, 18_000, 0]


@override_settings(FREQUENCY_CAP={"messages": 2, "days": 7})
def test_a_frequency_cap_that_excludes_most_of_the_audience(schema):
    once = {"frequency": "once", "at": "2026-12-02T09:00", "timezone": "UTC"}
    campaign = create(schema, "Capped", once)
    _run, test_delivery = finished_run(campaign, schema, 20)
    messages(test_delivery, 1, 20)
    earlier = create(schema, "Earlier", {"frequency": "asap"})
    for _ in range(2):  # c1..c15 got 2 marketing emails in the last days, c16..c20 none
        _r, past = finished_run(earlier, schema, 15, test=False, at=NOW - dt.timedelta(days=2))
        messages(past, 1, 15, status="sent", sent_at=NOW - dt.timedelta(days=2))
    (warning,) = forecast.warnings(campaign, user=SYSTEM, now=NOW)
    assert warning["code"] == "frequency_cap"
    assert warning["message"] == (
        "send: the frequency cap (2 messages in 7 days) would exclude 15 of 20 recipients."
    )

    daily = create(schema, "Daily capped", DAILY_0930)  # 7 launches a week > 2 allowed
    finished_run(daily, schema, 20)
    codes = [w["code"] for w in forecast.warnings(daily, user=SYSTEM, now=NOW)]
    assert codes == ["frequency_cap"]


def test_no_frequency_cap_configured_is_skipped_with_a_note(schema):
    campaign = create(schema, "Uncapped", DAILY_0930)
    finished_run(campaign, schema, 20)
    result = forecast.build(campaign, user=SYSTEM, now=NOW, start=False)
    assert result["warnings"] == []
    assert (
        "No frequency cap is configured (FREQUENCY_CAP): its check was skipped." in result["notes"]
    )


def test_a_schedule_with_no_launch_in_its_validity_window(schema):
    empty = {"frequency": "weekly", "days": ["mon"], "times": ["09:00"], "timezone": "UTC",
             "valid_from": "2027-01-05T00:00", "valid_until": "2027-01-07T00:00"}  # fmt: skip
    campaign = create(schema, "Never", empty)
    result = forecast.build(campaign, user=SYSTEM, now=NOW, start=False)
    assert [w["code"] for w in result["warnings"]] == ["no_launch"]
    assert result["warnings"][0]["message"] == (
        "The weekly schedule has no launch in its validity window "
        "(2027-01-05T00:00 to 2027-01-07T00:00)."
    )
    assert result["launches"] == [] and result["load"] == []


@override_settings(CHANNEL_PROVIDERS=providers())
def test_the_api_reads_the_forecast_and_publish_repeats_the_warnings(schema):
    campaign = create(schema, "Million API", DAILY_0930, throttle_per_second=10, validity_hours=12)
    finished_run(campaign, schema, 1_000_000, at=dt.datetime.now(UTC))
    reader = token_client(staff_with("campaigns.view_campaign", name="reader"))
    answer = reader.get(f"/api/campaigns/{campaign.pk}/forecast/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["run"]["fresh"] is False
    assert [w["code"] for w in body["warnings"]] == ["throttle_window"]
    assert len(body["hours"]) == 168 and curve(body, "email")["campaign_messages"] > 0

    assert reader.post(f"/api/campaigns/{campaign.pk}/publish/").status_code == 403
    publisher = token_client(
        staff_with("campaigns.view_campaign", "campaigns.publish_campaign", name="publisher")
    )
    published = publisher.post(f"/api/campaigns/{campaign.pk}/publish/")
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "scheduled"
    assert published.json()["warnings"] == body["warnings"]


def test_no_recent_test_run_and_no_right_to_start_one(schema):
    campaign = create(schema, "Stale", DAILY_0930)
    old, _d = finished_run(campaign, schema, 20)
    Run.objects.filter(pk=old.pk).update(created_at=dt.datetime.now(UTC) - dt.timedelta(days=2))
    reader = token_client(staff_with("campaigns.view_campaign", name="reader"))
    body = reader.get(f"/api/campaigns/{campaign.pk}/forecast/").json()
    assert body["run"] is None and body["volumes"] == []
    assert body["notes"][0].startswith("No recent test run, and none could be started:")
    assert "campaigns.test_run_campaign" in body["notes"][0]
    assert Run.objects.filter(campaign=campaign).count() == 1
    assert reader.get("/api/campaigns/999999/forecast/").status_code == 404


@pytest.mark.workers
def test_a_fresh_test_run_is_started_and_its_counts_read_back(schema, engine):
    campaign = create(schema, "Fresh", DAILY_0930, throttle_per_second=5)
    engine.workers(1)
    user = staff_with("campaigns.view_campaign", "campaigns.test_run_campaign", name="tester")
    client = token_client(user)
    first = client.get(f"/api/campaigns/{campaign.pk}/forecast/").json()
    assert first["run"]["fresh"] is True
    run = final_run(Run.objects.get(pk=first["run"]["id"]))
    assert run.status == RunStatus.SUCCEEDED and run.test

    second = client.get(f"/api/campaigns/{campaign.pk}/forecast/").json()
    assert second["run"] == {
        **first["run"],
        "status": "succeeded",
        "finished": True,
        "fresh": False,
    }
    assert {(v["from"], v["count"]) for v in second["volumes"]} == {("aud", 20), ("send", 20)}
    assert second["channels"][0]["staged"] == 20
    assert Run.objects.filter(campaign=campaign).count() == 1  # not started twice
    assert curve(second, "email")["campaign_messages"] == 20 * len(second["launches"])


def test_openapi_documents_the_forecast_and_the_publish_warnings(tmp_path):
    import yaml
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    get = schema["paths"]["/api/campaigns/{id}/forecast/"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Forecast"
    }
    components = schema["components"]["schemas"]
    assert set(components["Forecast"]["properties"]) >= {"volumes", "load", "warnings", "hours"}
    assert components["ForecastWarning"]["properties"]["code"]["enum"] == [
        "throttle_window", "hourly_limit", "frequency_cap", "no_launch",
    ]  # fmt: skip
    publish = schema["paths"]["/api/campaigns/{id}/publish/"]["post"]["responses"]["200"]
    assert publish["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PublishedCampaign"
    }


def test_a_definition_with_an_unregistered_kind_gives_a_note_not_an_error(schema):
    from campaigns.models import Activity

    campaign = create(schema, "Plugin gone", DAILY_0930)
    Activity.objects.filter(campaign=campaign, key="done").update(type="gone_plugin")
    result = forecast.build(campaign, user=SYSTEM, now=NOW)
    assert result["notes"] == ["The definition cannot be read (unknown kind 'gone_plugin')."]
    assert (result["run"], result["load"], result["warnings"]) == (None, [], [])


def test_draft_options_out_of_range_are_read_safely(schema):
    campaign = create(
        schema, "Odd options", DAILY_0930, throttle_per_second=0, validity_hours=10**9
    )
    finished_run(campaign, schema, 100)
    (row,) = forecast.build(campaign, user=SYSTEM, now=NOW, start=False)["channels"]
    assert (row["throttle_per_second"], row["validity_hours"]) == (None, 720)
