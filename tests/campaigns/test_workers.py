"""Worker processes as deployed: counted by /healthz after Redis loses everything, connections
kept between jobs, the takeover rule (heartbeat and proof of life)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from campaigns import services
from campaigns.engine import claim as claims
from campaigns.engine import reconciler
from campaigns.models import ActivityRun, Run, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run, wait_for
from tests.campaigns.test_chain import chain, start, steps

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def live_workers(client):
    return client.get("/healthz").json()["workers"]


def test_health_counts_a_busy_engine_worker_again_after_a_flush(schema, engine, client):
    before = live_workers(client)
    engine.worker()
    wait_for(lambda: live_workers(client) == before + 1)
    run = start(schema, "Busy", [4])
    wait_for(lambda: steps(run)["s1"].status == "running")
    engine.flush_redis()  # the registration is gone with the data, the step goes on
    wait_for(lambda: live_workers(client) == before + 1)
    assert steps(run)["s1"].status == "running"  # counted again while still busy
    assert final_run(run).status == RunStatus.SUCCEEDED


def test_health_counts_an_idle_rqworker_again_after_a_flush(engine, client):
    before = live_workers(client)
    engine.start("rqworker", f"{settings.RQ_QUEUE_PREFIX}default")  # config.workers.Worker
    wait_for(lambda: live_workers(client) == before + 1)
    engine.flush_redis()
    wait_for(lambda: live_workers(client) == before + 1)


def proof_sessions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            ["campaigns proof of life"],
        )
        return cursor.fetchall()


def test_the_worker_keeps_its_proof_of_life_connection_between_jobs(schema, engine):
    engine.worker()
    first = final_run(start(schema, "First", ["fork"]))
    assert first.status == RunStatus.SUCCEEDED
    sessions = proof_sessions()
    assert len(sessions) == 1
    for i in range(3):
        campaign = services.create_from_definition(
            document=chain(schema, f"Next {i}", []), user=SYSTEM
        )
        assert (
            final_run(services.test_run(campaign=campaign, user=SYSTEM)).status
            == RunStatus.SUCCEEDED
        )
    assert proof_sessions() == sessions


def running_step(schema, seconds_since_heartbeat):
    run = start(schema, "Orphan", [1])  # no worker: nothing runs it
    step = ActivityRun.objects.get(run=run, key="aud")
    old = timezone.now() - timedelta(seconds=seconds_since_heartbeat)
    ActivityRun.objects.filter(pk=step.pk).update(
        status="running", attempt=1, claimed_by="gone", claimed_at=old, heartbeat_at=old
    )
    return step


def test_a_silent_step_whose_proof_of_life_is_held_is_not_taken_over(schema, engine):
    step = running_step(schema, 3600)
    holder = claims.Proof()  # another session holds its lock: its worker lives
    assert holder.acquire(step.pk)
    try:
        assert reconciler.recover_orphans() == 0
        assert ActivityRun.objects.get(pk=step.pk).status == "running"
    finally:
        holder.close()
    assert reconciler.recover_orphans() == 1
    taken = ActivityRun.objects.get(pk=step.pk)
    assert (taken.status, taken.claimed_by) == ("pending", "")


def test_a_step_with_a_fresh_heartbeat_is_not_taken_over(schema, engine):
    step = running_step(schema, 0)
    assert reconciler.recover_orphans() == 0
    assert ActivityRun.objects.get(pk=step.pk).status == "running"
    assert Run.objects.get(pk=step.run_id).status == RunStatus.RUNNING


def test_a_long_lived_worker_keeps_a_bounded_number_of_graphs(monkeypatch):
    """Every test run has a version of its own: the per-version graph cache must not grow
    with them in a worker that never forks."""
    from types import SimpleNamespace

    from campaigns.engine import progress

    monkeypatch.setattr(progress, "GRAPHS_KEPT", 2)
    monkeypatch.setattr(progress, "_graphs", progress.OrderedDict())
    definition = {"activities": [], "transitions": []}
    runs = [
        SimpleNamespace(version_id=n, version=SimpleNamespace(definition=definition))
        for n in range(3)
    ]
    for run in (runs[0], runs[1], runs[0], runs[2]):
        progress.graph_of(run)
    assert list(progress._graphs) == [0, 2]
