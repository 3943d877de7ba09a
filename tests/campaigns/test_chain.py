"""Inline chains, crashes inside them, starvation and fairness, with real engine workers.

No timing thresholds: each test checks what happened (attempts, jobs, order of events), never how
fast (speed lives in bench/engine.py).
"""

import os
import signal

import django_rq
import pytest
from django.conf import settings
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from audiences.models import Population
from campaigns import services
from campaigns.models import FINAL_RUN, ActivityRun, Run, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run, wait_for

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
QUEUES = [f"{settings.RQ_QUEUE_PREFIX}engine", f"{settings.RQ_QUEUE_PREFIX}engine_long"]


def chain(schema, name, steps):
    """build_audience, then ``steps`` (``"fork"`` or seconds of a ``slow`` step) in a row, end."""
    activities = [{"id": "aud", "type": "build_audience", "schema": schema.name}]
    for i, step in enumerate(steps, start=1):
        kind = {"type": "fork"} if step == "fork" else {"type": "slow", "seconds": step}
        activities.append({"id": f"s{i}", **kind})
    activities.append({"id": "done", "type": "end"})
    keys = [a["id"] for a in activities]
    return {
        "name": name,
        "activities": activities,
        "transitions": [{"from": a, "to": b} for a, b in zip(keys, keys[1:], strict=False)],
    }


def start(schema, name, steps):
    campaign = services.create_from_definition(document=chain(schema, name, steps), user=SYSTEM)
    return services.test_run(campaign=campaign, user=SYSTEM)


def jobs(registry_class):
    connection = django_rq.get_connection(QUEUES[0])
    return sum(registry_class(name, connection=connection).count for name in QUEUES)


def steps(run):
    return {ar.key: ar for ar in ActivityRun.objects.filter(run=run)}


def test_a_sequential_chain_runs_in_one_job(schema, engine):
    engine.worker()
    run = final_run(start(schema, "One job", ["fork"] * 12))
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert {ar.attempt for ar in steps(run).values()} == {1}
    assert steps(run)["done"].status == "succeeded"
    assert jobs(FinishedJobRegistry) == 1  # the entry job ran the 13 others itself


def test_kill_9_inside_an_inline_chain_loses_nothing_and_runs_nothing_twice(schema, engine):
    worker = engine.worker()
    engine.tick()
    run = start(schema, "Killed chain", [1, 1, 4, 1])
    wait_for(lambda: steps(run)["s3"].status == "running")
    assert jobs(FinishedJobRegistry) == 0 and jobs(StartedJobRegistry) == 1  # one job so far
    before = steps(run)
    engine.kill(worker)
    engine.worker()
    run = final_run(run, timeout=90)
    assert run.status == RunStatus.SUCCEEDED, run.error
    after = steps(run)
    assert {k: a.attempt for k, a in after.items()} == {
        "aud": 1,
        "s1": 1,
        "s2": 1,
        "s3": 2,
        "s4": 1,
        "done": 1,
    }
    for key in ("aud", "s1", "s2"):  # recorded before the kill, never run again
        assert after[key].finished_at == before[key].finished_at
    assert after["done"].status == "succeeded"
    assert after["s4"].counts == {"out": 20}
    assert Population.objects.filter(label__startswith=f"run {run.pk} ").count() == 1


def test_a_short_run_finishes_while_long_chains_go_on(schema, engine):
    """Two workers, each chaining a long run: a new short run is served between their steps."""
    engine.workers(2)
    longs = [start(schema, f"Long {i}", [1] * 6) for i in range(2)]
    wait_for(
        lambda: all(
            ActivityRun.objects.filter(run=r, key="s1", status="succeeded").exists() for r in longs
        ),
        timeout=90,
    )
    campaign = services.create_from_definition(document=chain(schema, "Short", []), user=SYSTEM)
    short = final_run(services.test_run(campaign=campaign, user=SYSTEM), timeout=90)
    assert short.status == RunStatus.SUCCEEDED, short.error
    statuses = Run.objects.filter(pk__in=[r.pk for r in longs]).values_list("status", flat=True)
    assert not set(statuses) & FINAL_RUN  # both long runs were still going
    for run in longs:
        assert final_run(run, timeout=90).status == RunStatus.SUCCEEDED


def test_runs_started_together_finish_one_after_another(schema, engine):
    """Three 3-step runs on one worker: each run's second step starts only once the run before
    it has finished (interleaved, every run would reach its second step early and all would
    finish at the end)."""
    engine.worker()
    runs = [start(schema, f"Together {i}", [1, 1, 1]) for i in range(3)]
    runs = [final_run(run, timeout=120) for run in runs]
    assert all(run.status == RunStatus.SUCCEEDED for run in runs)
    finished = [run.finished_at for run in runs]
    assert finished == sorted(finished)
    for previous, run in zip(runs, runs[1:], strict=False):
        assert previous.finished_at <= steps(run)["s2"].started_at


def test_a_step_longer_than_the_takeover_delay_keeps_its_claim(schema, engine):
    """RECONCILE_AFTER_SECONDS is 3 here: the heartbeat (and the proof of life) keep a 5 s step
    of a live worker from being taken over."""
    engine.worker()
    engine.tick()
    run = final_run(start(schema, "Long step", [5]))
    assert run.status == RunStatus.SUCCEEDED, run.error
    step = steps(run)["s1"]
    assert step.attempt == 1
    assert step.heartbeat_at > step.claimed_at


def test_sigterm_ends_the_chain_after_its_step_and_hands_the_rest_on(schema, engine):
    worker = engine.worker()
    run = start(schema, "Stopped worker", [1, 2, 1, 1])
    wait_for(lambda: steps(run)["s2"].status == "running")
    os.killpg(worker.pid, signal.SIGTERM)
    assert worker.wait(timeout=30) == 0  # warm shutdown: after the step in progress
    between = steps(run)
    assert between["s2"].status == "succeeded"
    assert (between["s3"].status, between["s3"].attempt) == ("pending", 0)  # queued, not run
    engine.worker()
    run = final_run(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert {ar.attempt for ar in steps(run).values()} == {1}  # nothing was taken over
