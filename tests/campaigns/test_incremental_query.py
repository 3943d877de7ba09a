"""``incremental_query``: counts against hand-written SQL over test and live runs, with real
worker processes; its high-water mark moves only in live runs."""

import datetime

import pytest
from django.db import connection

from campaigns import services
from campaigns.activities import registry
from campaigns.activities.base import Check
from campaigns.activities.incremental_query import current_mark
from campaigns.models import ActivityRun, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import BASE, final_run, insert

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def sql(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def campaign_doc(schema, name, **options):
    return {
        "name": name,
        "schedule": {"frequency": "signal"},
        "activities": [
            {
                "id": "new",
                "type": "incremental_query",
                "schema": schema.name,
                "where": {"field": "country", "op": "eq", "value": "FR"},
                "date_field": "changed_at",
                **options,
            },
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "new", "to": "done"}],
    }


def step(run):
    return ActivityRun.objects.get(run=run, key="new")


def finished(run):
    run = final_run(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return step(run)


@pytest.mark.workers
def test_mark_moves_only_in_live_runs(events, engine, settings):
    settings.TRIGGER_MIN_INTERVAL_SECONDS = 0
    table = f"data_{events.name}"
    engine.worker()
    campaign = services.create_from_definition(
        document=campaign_doc(events, "Incremental"), user=SYSTEM
    )
    assert services.validation_errors(campaign) == []
    fr = sql(f"SELECT count(*) FROM {table} WHERE country = 'FR'")
    newest = sql(f"SELECT max(changed_at) FROM {table} WHERE country = 'FR'")

    tested = finished(services.test_run(campaign=campaign, user=SYSTEM))
    assert tested.counts == {"out": fr} and fr == 15
    assert tested.state["would_move_to"] == newest.isoformat()
    assert current_mark(campaign_id=campaign.pk, key="new") is None

    services.publish(campaign=campaign, user=SYSTEM)
    first = finished(services.trigger(campaign=campaign, user=SYSTEM))
    assert first.counts == {"out": fr}, "the test run did not move the mark"
    assert first.state == {"mark_before": None, "mark": newest.isoformat()}

    insert(events.name, 21, 28)
    with connection.cursor() as cursor:  # an old record changed: taken again
        cursor.execute(
            f"UPDATE {table} SET changed_at = %s WHERE event_id = 'e1'",
            [BASE + datetime.timedelta(days=30)],
        )
    fresh = sql(f"SELECT count(*) FROM {table} WHERE country = 'FR' AND changed_at > %s", [newest])
    latest = sql(f"SELECT max(changed_at) FROM {table} WHERE country = 'FR'")
    assert fresh == 7

    retested = finished(services.test_run(campaign=campaign, user=SYSTEM))
    assert retested.counts == {"out": fresh}
    assert current_mark(campaign_id=campaign.pk, key="new") == newest.isoformat()

    second = finished(services.trigger(campaign=campaign, user=SYSTEM))
    assert second.counts == {"out": fresh}
    assert second.state["mark"] == latest.isoformat()

    third = finished(services.trigger(campaign=campaign, user=SYSTEM))
    assert third.counts == {"out": 0}
    assert third.state["mark"] == latest.isoformat(), "nothing taken: the mark stays"


@pytest.mark.workers
def test_first_run_since_on_a_date_field(events, engine):
    table = f"data_{events.name}"
    engine.worker()
    document = campaign_doc(events, "Since", date_field="day", since="2026-01-10")
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    assert services.validation_errors(campaign) == []
    run = finished(services.test_run(campaign=campaign, user=SYSTEM))
    expected = sql(f"SELECT count(*) FROM {table} WHERE country = 'FR' AND day >= '2026-01-10'")
    newest = sql(f"SELECT max(day) FROM {table} WHERE country = 'FR'")
    assert run.counts == {"out": expected} and expected == 9
    assert run.state["would_move_to"] == newest.isoformat()


def test_options_are_validated(events):
    kind = registry.get("incremental_query")

    def errors(**options):
        merged = kind.with_defaults({"schema": events.name, "date_field": "changed_at", **options})
        return {(e["path"], e["message"]) for e in kind.check(merged, Check("a[0]"))}

    assert errors() == set()
    assert errors(schema="nope") == {("a[0].schema", "no schema named 'nope'")}
    assert errors(date_field=None) == {("a[0].date_field", "a value is required")}
    assert errors(date_field="points") == {
        ("a[0].date_field", "points is integer, not a date or datetime")
    }
    assert errors(date_field="zz") == {("a[0].date_field", f"{events.name} has no attribute 'zz'")}
    assert errors(since="yesterday") == {("a[0].since", "must be an ISO 8601 date or date-time")}
    bad_rule = errors(where={"field": "nope", "op": "eq", "value": 1})
    assert [path for path, _ in bad_rule] == ["a[0].where.field"]
