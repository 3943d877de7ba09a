"""Campaign engine benchmark (issues 5, 9, 10) on the retail demo set (``manage.py seed_demo``).

Every measure runs real engine workers started as in production (``manage.py campaigns_worker``,
separate OS processes) and test runs started through ``campaigns.services`` (``engine_support``),
and prints its figure next to a baseline measured in the same run, with the ratio and the target:

(a) A 10-activity campaign (build_audience x3, combine x3, fork, test, and_join, end) over the
    first 100,000 customers and over all of them: wall time from ``test_run`` to the final status
    against the sum of the same steps as plain SQL (``CREATE TABLE AS`` + ``ANALYZE`` per
    materialized step, a ``count(*)`` for ``test``). Best of ``--repeat``. Targets: 2.0 at 100k,
    1.3 at 1M.
(b) Overhead per activity: build_audience of one customer, 98 forks in a chain, end (100
    activities, strictly sequential): wall time / 100, with the medians inside a step (claim to
    result) and between steps, against the smallest durable write (one UPDATE + COMMIT) as
    baseline. Target: under 10 ms, with the durability settings printed (fsync,
    synchronous_commit, wal_level at their defaults).
(c) Peak RSS (VmHWM) of a fresh engine worker running audiences of ``profiles / 10`` and
    ``profiles`` customers. Target: large / small <= 1.2.
(d) Starvation: a 1-activity run alone (median of 5) against the same started while two
    100-activity chains run on the workers (median of 5). Target: <= 3x.
(e) Fairness: 20 runs of (a)'s 100k campaign started together on the workers (test-run in one
    transaction: their first steps are enqueued at its commit, the time origin): the first
    completion against the run alone (median of 3, timed the same way; target <= 3x), the mean
    completion against the last (target <= 0.6), and the last against the same 20 runs back to
    back (sum of their times alone: no loss of throughput, <= 1.0).
(f) Takeover: a worker SIGKILLed in the middle of a step, with the tick's RECONCILE_AFTER_SECONDS
    and TICK_SECONDS as configured (defaults 60 and 5): seconds from the kill until the step is
    claimed again, against RECONCILE_AFTER_SECONDS (target: ratio <= 1); the expected bound is
    the heartbeat age that counts as silent (``claim.stale_seconds()``) plus one tick.

Data: ``data_customer`` must hold at least ``--profiles`` rows, else ``seed_demo`` runs first.
The bench's campaigns, runs and populations are deleted at the end; ``--write`` replaces the
"Engine" section of bench/RESULTS.md. Wrap every run in ``flock /tmp/campaigns-support.lock``.

Run: DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/engine.py [--profiles 1000000]
     [--workers 2] [--repeat 3] [--only a,b,c,d,e,f] [--write]
"""

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CAMPAIGN_ACTIVITY_MODULES", "tests.campaigns.kinds")  # ``slow`` for (f)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from audiences.models import Population  # noqa: E402
from bench import engine_report  # noqa: E402
from bench import engine_support as support  # noqa: E402
from campaigns.engine import claim as claims  # noqa: E402
from campaigns.models import ActivityRun, Run  # noqa: E402

STAMP = time.strftime("%H%M%S")
LOAD = os.getloadavg()
SMALL = 100_000


def name(what):
    return f"{support.NAME_PREFIX}{what} {STAMP} {next(_serial)}"


_serial = itertools.count()


# --- measures --------------------------------------------------------------------------------


def measure_flow(size, customers, repeat):
    """(a): the best run and the best plain SQL over ``repeat`` alternations."""
    bound = support.bound_of(size, customers)
    runs, sqls = [], []
    for _ in range(repeat):
        run, seconds = support.run_campaign(support.ten_activities(name("flow"), bound))
        sql_seconds, counts = support.plain_sql_seconds(bound)
        runs.append(seconds)
        sqls.append(sql_seconds)
        got = {k: v.get("out") for k, v in run.activity_runs.values_list("key", "counts")}
        if (got["both"], got["join"]) != (counts["bench_e3"], counts["bench_e8"]):
            raise RuntimeError(f"counts differ: run {got}, SQL {counts}")
    best_run, best_sql = min(runs), min(sqls)
    return {
        "size": min(size, customers),
        "run_s": best_run,
        "sql_s": best_sql,
        "ratio": best_run / best_sql,
        "median_run_s": statistics.median(runs),
        **counts,
    }


def step_times(run):
    """Medians (ms) over a sequential run: claim to result inside a step, and the gap from one
    step's result to the next step's claim."""
    rows = list(run.activity_runs.order_by("started_at").values_list("started_at", "finished_at"))
    inside = [(f - s).total_seconds() * 1000 for s, f in rows]
    gaps = [(s - f0).total_seconds() * 1000 for (_, f0), (s, _) in itertools.pairwise(rows)]
    return statistics.median(inside), statistics.median(gaps)


def measure_chain(repeat, length=100):
    """(b)."""
    best = None
    for _ in range(repeat):
        run, seconds = support.run_campaign(support.chain(name("chain"), length))
        if best is None or seconds < best[0]:
            best = (seconds, *step_times(run))
    seconds, inside, gap = best
    return {
        "commit_ms": support.commit_ms(),
        "activities": length,
        "run_s": seconds,
        "per_activity_ms": seconds / length * 1000,
        "inside_ms": inside,
        "gap_ms": gap,
    }


def measure_rss(size):
    """(c): peak RSS (KiB) of a fresh engine worker (and of its scheduler child)."""
    worker = support.start_worker()
    try:
        support.wait_ready([worker])
        run, seconds = support.run_campaign(support.sized(name("rss"), size))
        count = run.activity_runs.get(key="both").counts["out"]
        kids = support.children(worker.pid)
        return {
            "size": count,
            "worker_kib": support.vm_hwm_kib(worker.pid),
            "child_kib": max([support.vm_hwm_kib(pid) for pid in kids] or [0]),
            "run_s": seconds,
        }
    finally:
        support.stop([worker])


def one_step_seconds():
    campaign = support.create(support.one_step(name("one")))
    started = time.perf_counter()
    run = support.test_run(campaign)
    return support.wait_final([(run, started)])[run.pk]


def measure_starvation(times=5):
    """(d): a 1-activity run alone, then while two 100-activity chains run."""
    solo = [one_step_seconds() for _ in range(times)]
    busy, still_running = [], 0
    for _ in range(times):
        longs = [support.test_run(support.create(support.chain(name("long")))) for _ in range(2)]
        deadline = time.monotonic() + 60
        while ActivityRun.objects.filter(run__in=longs, status="succeeded").count() < 10:
            if time.monotonic() > deadline:
                raise RuntimeError("the long runs did not start")
            time.sleep(0.002)
        busy.append(one_step_seconds())
        statuses = Run.objects.filter(pk__in=[r.pk for r in longs]).values_list("status", flat=True)
        still_running += sum(1 for s in statuses if s not in ("succeeded", "failed", "stopped"))
        support.wait_final([(r, time.perf_counter()) for r in longs])
    solo_s, busy_s = statistics.median(solo), statistics.median(busy)
    return {
        "solo_s": solo_s,
        "busy_s": busy_s,
        "ratio": busy_s / solo_s,
        "long_still_running": still_running,
        "long_runs": 2 * times,
    }


def start_together(campaigns):
    """Test-run ``campaigns`` in one transaction, so that their first steps are enqueued together
    when it commits: (runs, the time just before the commit)."""
    with transaction.atomic():
        runs = [support.test_run(c) for c in campaigns]
        started = time.perf_counter()
    return runs, started


def one_by_one(campaigns):
    """Each campaign's test run alone, one after the other: seconds from commit to end, each."""
    seconds = []
    for campaign in campaigns:
        (run,), started = start_together([campaign])
        seconds.append(support.wait_final([(run, started)])[run.pk])
    return seconds


def measure_fairness(bound, count=20):
    """(e): ``count`` runs started together, against one alone and the same runs back to back."""
    campaigns = [support.create(support.ten_activities(name("fair"), bound)) for _ in range(count)]
    solo = statistics.median(one_by_one(campaigns[:3]))
    runs, t0 = start_together(campaigns)
    finishes = sorted(support.wait_final([(run, t0) for run in runs]).values())
    sequential = sum(one_by_one(campaigns))
    return {
        "runs": count,
        "solo_s": solo,
        "first_s": finishes[0],
        "mean_s": statistics.mean(finishes),
        "last_s": finishes[-1],
        "sequential_s": sequential,
        "order": [round(f, 2) for f in finishes],
    }


def measure_takeover(seconds=5):
    """(f): kill -9 a worker one second into a step; time until the step is claimed again."""
    worker = support.start_worker()
    support.wait_ready([worker])
    run = support.test_run(support.create(support.slow(name("takeover"), seconds)))
    nap = lambda: ActivityRun.objects.get(run=run, key="nap")  # noqa: E731
    deadline = time.monotonic() + 60
    while nap().status != "running":
        if time.monotonic() > deadline:
            raise RuntimeError("the slow step did not start")
        time.sleep(0.01)
    time.sleep(1)
    support.kill(worker)
    killed = time.perf_counter()
    other = support.start_worker()
    try:  # the tick of main() takes it over
        while nap().attempt < 2:
            if time.perf_counter() - killed > 3 * settings.RECONCILE_AFTER_SECONDS:
                raise RuntimeError("the step was not taken over")
            time.sleep(0.05)
        taken = time.perf_counter() - killed
        support.wait_final([(run, time.perf_counter())])
    finally:
        support.stop([other])
    return {
        "stale": claims.stale_seconds(),
        "seconds": taken,
        "reconcile_after": settings.RECONCILE_AFTER_SECONDS,
        "tick": settings.TICK_SECONDS,
    }


def measure_all(args, customers):
    wanted = set(args.only.split(","))
    r = dict.fromkeys(
        ("flow_small", "flow_large", "chain", "rss", "starvation", "fairness", "takeover")
    )
    r.update(customers=customers, durability=support.durability())
    print(f"durability: {r['durability']}; worker and tick logs: {support.LOG}", flush=True)
    tick = support.start_tick()
    workers = [support.start_worker() for _ in range(args.workers)]
    try:
        support.wait_ready(workers)
        if "a" in wanted:
            r["flow_small"] = measure_flow(SMALL, customers, args.repeat)
            print(f"(a) small: {r['flow_small']}", flush=True)
            if customers > SMALL:
                r["flow_large"] = measure_flow(customers, customers, args.repeat)
                print(f"(a) large: {r['flow_large']}", flush=True)
        if "b" in wanted:
            r["chain"] = measure_chain(args.repeat)
            print(f"(b) {r['chain']}", flush=True)
        if "d" in wanted:
            r["starvation"] = measure_starvation()
            print(f"(d) {r['starvation']}", flush=True)
        if "e" in wanted:
            r["fairness"] = measure_fairness(support.bound_of(SMALL, customers))
            print(f"(e) {r['fairness']}", flush=True)
        support.stop(workers)
        if "c" in wanted:
            r["rss"] = (measure_rss(args.profiles // 10), measure_rss(args.profiles))
            print(f"(c) {r['rss']}", flush=True)
        if "f" in wanted:
            r["takeover"] = measure_takeover()
            print(f"(f) {r['takeover']}", flush=True)
    finally:
        support.stop([*workers, tick])
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="a,b,c,d,e,f", help="measures to run, e.g. a,b")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    customers = support.ensure_data(args.profiles)
    first_population = Population.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        results = measure_all(args, customers)
    finally:
        support.cleanup(first_population)
    table, section = engine_report.report(args, results, LOAD)
    print(table)
    if args.write:
        support.write_section(section)
        print("bench/RESULTS.md: Engine section written")


if __name__ == "__main__":
    main()
