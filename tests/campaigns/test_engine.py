"""The engine with real engine worker processes (campaigns_worker) and the campaigns_tick process."""

import time

import pytest
from django.db import connection

from campaigns import services
from campaigns.models import ActivityRun, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run, wait_for

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def sql_count(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def flow(schema, name="Flow"):
    """build (country = var) -> fork -> test(count > 10 ? big : default)
    big -> combine(union with the DE audience) ; default -> end ; DE audience -> combine"""
    return {
        "name": name,
        "variables": [{"name": "country", "type": "string", "default": "FR"}],
        "activities": [
            {
                "id": "aud",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "country", "op": "eq", "var": "country"},
            },
            {
                "id": "de",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "country", "op": "eq", "value": "DE"},
            },
            {"id": "fork", "type": "fork"},
            {
                "id": "check",
                "type": "test",
                "conditions": [
                    {"name": "big", "when": {"field": "count", "op": "gt", "value": 10}}
                ],
            },
            {"id": "both", "type": "combine", "operation": "union"},
            {
                "id": "rich",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "points", "op": "gte", "value": 1500},
            },
            {"id": "not_rich", "type": "combine", "operation": "exclusion", "primary": "both"},
            {"id": "done", "type": "end"},
            {"id": "small", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "fork"},
            {"from": "fork", "to": "check"},
            {"from": "check", "port": "big", "to": "both"},
            {"from": "de", "to": "both"},
            {"from": "both", "to": "not_rich"},
            {"from": "rich", "to": "not_rich"},
            {"from": "not_rich", "to": "done"},
            {"from": "check", "port": "default", "to": "small"},
        ],
    }


def counts(run):
    from campaigns.api import run_data

    return {(t["from"], t["port"], t["to"]): t["count"] for t in run_data(run)["transitions"]}


def test_flow_counts_match_sql(schema, engine):
    table = f"data_{schema.name}"
    engine.worker()
    engine.worker()
    campaign = services.create_from_definition(document=flow(schema), user=SYSTEM)
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED, run.error
    fr = sql_count(f"SELECT count(*) FROM {table} WHERE country = 'FR'")
    both = sql_count(f"SELECT count(*) FROM {table} WHERE country IN ('FR', 'DE')")
    not_rich = sql_count(
        f"SELECT count(*) FROM {table} WHERE country IN ('FR', 'DE') AND NOT points >= 1500"
    )
    got = counts(run)
    assert got[("aud", "out", "fork")] == fr == 15
    assert got[("fork", "out", "check")] == fr
    assert got[("check", "big", "both")] == fr
    assert got[("check", "default", "small")] is None
    assert got[("de", "out", "both")] == 5
    assert got[("both", "out", "not_rich")] == both
    assert got[("not_rich", "out", "done")] == not_rich
    statuses = dict(run.activity_runs.values_list("key", "status"))
    assert statuses["small"] == "skipped"
    assert statuses["done"] == "succeeded"


def test_untaken_branch_feeding_and_join_and_combine_is_skipped(schema, engine):
    """DE (5 records) takes ``default``: the ``big`` branch is skipped, the joins go on."""
    document = flow(schema, name="Untaken")
    document["activities"].append({"id": "join", "type": "and_join", "primary": "de_fork"})
    document["activities"].append({"id": "de_fork", "type": "fork"})
    document["activities"].append({"id": "big_fork", "type": "fork"})
    document["activities"].append({"id": "joined", "type": "end"})
    document["transitions"] = [
        t for t in document["transitions"] if t["from"] != "de" and t["from"] != "check"
    ] + [
        {"from": "de", "to": "de_fork"},
        {"from": "de_fork", "to": "both"},
        {"from": "de_fork", "to": "join"},
        {"from": "check", "port": "big", "to": "big_fork"},
        {"from": "big_fork", "to": "both"},
        {"from": "big_fork", "to": "join"},
        {"from": "check", "port": "default", "to": "small"},
        {"from": "join", "to": "joined"},
    ]
    engine.worker()
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    assert services.validation_errors(campaign) == []
    run = final_run(services.test_run(campaign=campaign, variables={"country": "DE"}, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED, run.error
    statuses = dict(run.activity_runs.values_list("key", "status"))
    assert statuses["big_fork"] == "skipped"
    assert statuses["small"] == "succeeded"
    assert statuses["join"] == statuses["both"] == statuses["joined"] == "succeeded"
    got = counts(run)
    assert got[("check", "big", "big_fork")] is None
    assert got[("big_fork", "out", "both")] is None
    assert got[("both", "out", "not_rich")] == 5
    assert got[("join", "out", "joined")] == 5


def slow_campaign(schema, seconds, name="Slow"):
    return {
        "name": name,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name},
            {"id": "nap", "type": "slow", "seconds": seconds},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": "nap"}, {"from": "nap", "to": "done"}],
    }


def test_kill_9_mid_step_is_taken_over(schema, engine):
    worker = engine.worker()
    engine.tick()
    campaign = services.create_from_definition(document=slow_campaign(schema, 6), user=SYSTEM)
    run = services.test_run(campaign=campaign, user=SYSTEM)
    wait_for(lambda: ActivityRun.objects.filter(run=run, key="nap", status="running").exists())
    engine.kill(worker)
    engine.worker()
    up = time.monotonic()
    run = final_run(run, timeout=60)
    assert time.monotonic() - up < 60
    assert run.status == RunStatus.SUCCEEDED, run.error
    nap = ActivityRun.objects.get(run=run, key="nap")
    assert (nap.status, nap.attempt) == ("succeeded", 2)
    assert nap.counts == {"out": 20}


def test_lost_redis_mid_test_run(schema, engine):
    """Jobs enqueued while no worker runs are wiped; the tick re-sends them."""
    engine.tick()
    campaign = services.create_from_definition(document=slow_campaign(schema, 1), user=SYSTEM)
    run = services.test_run(campaign=campaign, user=SYSTEM)
    engine.flush_redis()
    engine.worker()
    run = final_run(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert ActivityRun.objects.get(run=run, key="nap").counts == {"out": 20}


def test_lost_redis_during_wait_of_live_run(schema, engine):
    engine.worker()
    engine.tick()
    document = slow_campaign(schema, 0, name="Waiting")
    document["activities"][1] = {"id": "nap", "type": "wait", "duration": "4s"}
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    run = campaign.runs.get()
    wait_for(lambda: ActivityRun.objects.filter(run=run, key="nap", status="waiting").exists())
    engine.flush_redis()
    run = final_run(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_an_empty_skip_empty_subset_skips_what_depends_only_on_it(schema, engine):
    """Design 7 through real workers: split's ``skip_empty`` subset that matches nobody carries
    nothing, so the branch after it is skipped while the complement's branch runs."""
    engine.worker()
    document = {
        "name": "Skip empty",
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name},
            {
                "id": "cut",
                "type": "split",
                "subsets": [
                    {"name": "nobody", "where": {"field": "country", "op": "eq", "value": "XX"}}
                ],
                "complement": True,
                "skip_empty": True,
            },
            {"id": "never", "type": "end"},
            {"id": "rest", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "cut"},
            {"from": "cut", "port": "nobody", "to": "never"},
            {"from": "cut", "port": "complement", "to": "rest"},
        ],
    }
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED, run.error
    statuses = dict(run.activity_runs.values_list("key", "status"))
    assert (statuses["never"], statuses["rest"]) == ("skipped", "succeeded")
    cut = run.activity_runs.get(key="cut")
    assert cut.counts == {"nobody": None, "complement": 20}
