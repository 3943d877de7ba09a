"""The tick purges the populations of runs finished more than POPULATION_RETENTION_DAYS ago, never
those of runs still going, nor kept ones (snapshots)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audiences import populations
from audiences.models import Population, Schema
from campaigns import services
from campaigns.engine import reconciler
from campaigns.models import ActivityRun, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run, wait_for
from tests.conftest import staff_with, token_client

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]
LONG_AGO = timezone.now() - timedelta(days=30)


def table_exists(population_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pop_{population_id}"])
        return cursor.fetchone()[0]


def outputs(run):
    ids = set()
    for values in ActivityRun.objects.filter(run=run).values_list("outputs", flat=True):
        ids |= {pk for pk in values.values() if pk is not None}
    return ids


def document(schema, name, then):
    return {
        "name": name,
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema.name},
            then,
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": then["id"]}, {"from": then["id"], "to": "done"}],
    }


def age(ids, run=None):
    Population.objects.filter(pk__in=ids).update(created_at=LONG_AGO)
    if run is not None:
        type(run).objects.filter(pk=run.pk).update(finished_at=LONG_AGO)


def finished_run(schema, name):
    campaign = services.create_from_definition(
        document=document(schema, name, {"id": "fork", "type": "fork"}), user=SYSTEM
    )
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def test_old_finished_runs_lose_their_populations_waiting_and_kept_ones_stay(schema, engine):
    engine.worker()
    finished = finished_run(schema, "Finished")
    waiting_campaign = services.create_from_definition(
        document=document(schema, "Waiting", {"id": "nap", "type": "wait", "duration": "1d"}),
        user=SYSTEM,
    )
    services.publish(campaign=waiting_campaign, user=SYSTEM)
    waiting = waiting_campaign.runs.get()
    wait_for(lambda: ActivityRun.objects.filter(run=waiting, status="waiting").exists())
    kept = populations.from_rule(schema=Schema.objects.get(pk=schema.pk), where={"and": []})
    Population.objects.filter(pk=kept.pk).update(keep=True)
    gone, held = outputs(finished), outputs(waiting)
    assert gone and held
    age(gone, finished)
    age(held | {kept.pk})
    assert reconciler.purge_populations(force=True) == len(gone)
    for pk in gone:
        assert not Population.objects.filter(pk=pk).exists() and not table_exists(pk)
    for pk in held | {kept.pk}:
        assert Population.objects.filter(pk=pk).exists() and table_exists(pk)


def test_the_rows_of_a_purged_transition_answer_404_saying_why(schema, engine):
    engine.worker()
    run = finished_run(schema, "Purged")
    age(outputs(run), run)
    reconciler.purge_populations(force=True)
    user = staff_with("campaigns.view_run", "audiences.view_records", name="reader")
    response = token_client(user).get(f"/api/runs/{run.pk}/transitions/aud/out/records/")
    assert response.status_code == 404, response.content
    assert "purged" in response.json()["detail"]
    counts = token_client(user).get(f"/api/runs/{run.pk}/").json()
    assert counts["status"] == "succeeded"


def test_a_run_finished_within_the_retention_keeps_its_old_populations(schema, engine):
    engine.worker()
    run = finished_run(schema, "Recent")
    age(outputs(run))  # made long ago, but the run ended just now
    assert reconciler.purge_populations(force=True) == 0
    assert all(table_exists(pk) for pk in outputs(run))


def test_the_tick_reports_what_it_purged(schema, engine):
    counts = reconciler.tick()
    assert set(counts) >= {"orphans", "due", "launched", "purged"}
