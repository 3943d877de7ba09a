"""What bench/engine.py needs besides its measures: processes, campaigns, plain SQL, the machine.

Imported after ``django.setup()`` by bench/engine.py (no ``main`` here, so ``make bench`` skips it).
"""

import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from audiences import demo, populations
from audiences.models import Population
from campaigns import services
from campaigns.models import FINAL_RUN, Campaign, Run

ROOT = Path(__file__).resolve().parents[1]
QUEUE = f"{settings.RQ_QUEUE_PREFIX}engine"
LOG = Path(tempfile.gettempdir()) / f"bench_engine_{os.getpid()}.log"
NAME_PREFIX = "bench engine "


# --- processes -------------------------------------------------------------------------------


def start(*args, env=None):
    with LOG.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_worker(env=None):
    """An engine worker exactly as deployed: ``manage.py campaigns_worker``."""
    return start("campaigns_worker", env=env)


def start_tick(env=None):
    return start("campaigns_tick", env=env)


def wait_ready(processes, timeout=60):
    """Until ``processes`` are registered rq workers listening on the engine queue."""
    import django_rq
    from rq import Worker

    pids = {p.pid for p in processes}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = Worker.all(connection=django_rq.get_connection(QUEUE))
        if pids <= {w.pid for w in workers}:
            return
        time.sleep(0.05)
    raise RuntimeError(f"workers did not start; see {LOG}")


def stop(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kill(process):
    """SIGKILL a worker and everything in its process group (its rq scheduler)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def vm_hwm_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


# --- the acting user and the services ----------------------------------------------------------


def bench_user():
    """The acting user of every lifecycle service call (services will require ``user=``)."""
    users = get_user_model()
    user = users.objects.filter(username="bench-engine").first()
    return user or users.objects.create_superuser("bench-engine", "bench@localhost", None)


def service(function, **kwargs):
    """The one call site of campaign services in the bench: adds the acting user."""
    return function(**kwargs, user=bench_user())


def create(document):
    campaign = service(services.create_from_definition, document=document)
    errors = services.validation_errors(campaign)
    if errors:
        raise RuntimeError(f"{document['name']}: {errors}")
    return campaign


def test_run(campaign):
    return service(services.test_run, campaign=campaign)


def status_of(run):
    return Run.objects.filter(pk=run.pk).values_list("status", flat=True).get()


def wait_final(runs, poll=0.002, timeout=600):
    """{run pk: seconds from ``started`` (perf_counter of the call) to its final status}."""
    done, deadline = {}, time.monotonic() + timeout
    pending = {run.pk for run, _ in runs}
    started = {run.pk: at for run, at in runs}
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs {sorted(pending)} did not finish")
        rows = Run.objects.filter(pk__in=pending, status__in=FINAL_RUN).values_list("pk", "status")
        now = time.perf_counter()
        for pk, status in rows:
            if status != "succeeded":
                raise RuntimeError(f"run {pk} {status}: {Run.objects.get(pk=pk).error}")
            done[pk] = now - started[pk]
            pending.discard(pk)
        time.sleep(poll)
    return done


def run_campaign(document):
    """Create, test-run and wait: (run, wall seconds from test_run to the final status)."""
    campaign = create(document)
    started = time.perf_counter()
    run = test_run(campaign)
    seconds = wait_final([(run, started)])[run.pk]
    run.refresh_from_db()
    return run, seconds


# --- campaigns ---------------------------------------------------------------------------------


def audience(key, where, bound=None):
    if bound:
        where = {"and": [{"field": "customer_id", "op": "lt", "value": bound}, where]}
    return {"id": key, "type": "build_audience", "schema": "customer", "where": where}


def bound_of(size, customers):
    """A customer_id bound selecting the first ``size`` customers (None: all of them)."""
    return None if size >= customers else f"c{size:07d}"


def ten_activities(name, bound=None):
    """build_audience x3, combine x3, fork, test, and_join, end."""
    big = {"name": "big", "when": {"field": "count", "op": "gt", "value": 0}}
    return {
        "name": name,
        "activities": [
            audience("fr", {"field": "country", "op": "eq", "value": "FR"}, bound),
            audience("rich", {"field": "loyalty_points", "op": "gte", "value": 1000}, bound),
            {"id": "both", "type": "combine", "operation": "intersection"},
            {"id": "fork", "type": "fork"},
            {"id": "check", "type": "test", "conditions": [big]},
            audience("de", {"field": "country", "op": "eq", "value": "DE"}, bound),
            {"id": "union", "type": "combine", "operation": "union"},
            {"id": "excl", "type": "combine", "operation": "exclusion", "primary": "union"},
            {"id": "join", "type": "and_join", "primary": "excl"},
            {"id": "done", "type": "end"},
        ],
        "transitions": [
            {"from": "fr", "to": "both"},
            {"from": "rich", "to": "both"},
            {"from": "both", "to": "fork"},
            {"from": "fork", "to": "check"},
            {"from": "check", "port": "big", "to": "union"},
            {"from": "de", "to": "union"},
            {"from": "union", "to": "excl"},
            {"from": "fork", "to": "excl"},
            {"from": "excl", "to": "join"},
            {"from": "fork", "to": "join"},
            {"from": "join", "to": "done"},
        ],
    }


def plain_sql(bound=None):
    """The steps of ``ten_activities`` as plain SQL (same bound)."""
    only = f"customer_id < '{bound}' AND " if bound else ""
    select = f"SELECT customer_id AS key FROM data_customer WHERE {only}"
    return [
        f"CREATE TABLE bench_e1 AS {select}country = 'FR'",
        f"CREATE TABLE bench_e2 AS {select}loyalty_points >= 1000",
        "CREATE TABLE bench_e3 AS SELECT key FROM bench_e1 INTERSECT SELECT key FROM bench_e2",
        "SELECT count(*) FROM bench_e3",
        f"CREATE TABLE bench_e6 AS {select}country = 'DE'",
        "CREATE TABLE bench_e7 AS SELECT key FROM bench_e3 UNION SELECT key FROM bench_e6",
        "CREATE TABLE bench_e8 AS SELECT key FROM bench_e7 EXCEPT SELECT key FROM bench_e3",
    ]


def plain_sql_seconds(bound=None):
    """The sum of the plain SQL steps' times (each CREATE followed by its ANALYZE), and counts."""
    total = 0.0
    with connection.cursor() as cursor:
        for statement in plain_sql(bound):
            started = time.perf_counter()
            cursor.execute(statement)
            if statement.startswith("CREATE TABLE"):
                cursor.execute(f"ANALYZE {statement.split()[2]}")
            total += time.perf_counter() - started
        counts = {}
        for table in ("bench_e3", "bench_e8"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        for n in (1, 2, 3, 6, 7, 8):
            cursor.execute(f"DROP TABLE IF EXISTS bench_e{n}")
    return total, counts


def chain(name, length=100):
    """build_audience of one customer, ``length - 2`` forks in a row, end."""
    forks = [{"id": f"f{i}", "type": "fork"} for i in range(1, length - 1)]
    keys = ["one"] + [f["id"] for f in forks] + ["done"]
    return {
        "name": name,
        "activities": [
            audience("one", {"field": "customer_id", "op": "eq", "value": "c0000001"}),
            *forks,
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": a, "to": b} for a, b in zip(keys, keys[1:], strict=False)],
    }


def one_step(name):
    return {
        "name": name,
        "activities": [audience("one", {"field": "customer_id", "op": "eq", "value": "c0000002"})],
        "transitions": [],
    }


def sized(name, size):
    first = {"field": "customer_id", "op": "lt", "value": f"c{size:07d}"}
    return {
        "name": name,
        "activities": [
            audience("aud", first),
            audience("again", first),
            {"id": "fork", "type": "fork"},
            {"id": "both", "type": "combine", "operation": "union"},
            {"id": "done", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "fork"},
            {"from": "fork", "to": "both"},
            {"from": "again", "to": "both"},
            {"from": "both", "to": "done"},
        ],
    }


def slow(name, seconds):
    """One customer, then the test kind ``slow`` (tests/campaigns/kinds.py), then end."""
    return {
        "name": name,
        "activities": [
            audience("one", {"field": "customer_id", "op": "eq", "value": "c0000003"}),
            {"id": "nap", "type": "slow", "seconds": seconds},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "one", "to": "nap"}, {"from": "nap", "to": "done"}],
    }


# --- data, cleanup, machine ------------------------------------------------------------------


def ensure_data(profiles):
    """seed_demo's data set of at least ``profiles`` customers (``bench/segment.py`` fills the
    same tables with its own rows, keyed ``c1, c2, ...``: those are emptied first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('data_customer') IS NOT NULL")
        have = 0
        if cursor.fetchone()[0]:
            cursor.execute("SELECT count(*), bool_or(customer_id = 'c0000001') FROM data_customer")
            have, demo_rows = cursor.fetchone()
            if have and not demo_rows:
                tables = ", ".join(f"data_{name}" for name in demo.ORDER)
                cursor.execute(f"TRUNCATE {tables} CASCADE")
                have = 0
    if have < profiles:
        print(f"data_customer has {have} rows: seed_demo --profiles {profiles}", flush=True)
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--profiles", str(profiles)],
            cwd=ROOT,
            check=True,
        )
        return profiles
    return have


def cleanup(first_population_id):
    """Delete the bench's campaigns (runs first: a run protects its version) and populations."""
    mine = Campaign.objects.filter(name__startswith=NAME_PREFIX)
    Run.objects.filter(campaign__in=mine).delete()
    mine.delete()
    for population in Population.objects.filter(pk__gt=first_population_id):
        populations.drop(population)


def commit_ms(times=200):
    """Median time of the smallest durable write, one UPDATE and its COMMIT (autocommit): the
    floor of any step that records its result."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit (id int PRIMARY KEY, n int)")
        cursor.execute("INSERT INTO bench_commit VALUES (1, 0) ON CONFLICT DO NOTHING")
        spent = []
        for _ in range(times):
            started = time.perf_counter()
            cursor.execute("UPDATE bench_commit SET n = n + 1 WHERE id = 1")
            spent.append((time.perf_counter() - started) * 1000)
        cursor.execute("DROP TABLE bench_commit")
    return sorted(spent)[len(spent) // 2]


def durability():
    """The PostgreSQL settings that decide what a commit costs."""
    names = ("fsync", "synchronous_commit", "wal_level", "full_page_writes")
    with connection.cursor() as cursor:
        values = {}
        for name in names:
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    return values


def machine():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    mem_kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    cpus = len(os.sched_getaffinity(0))
    return f"{cpus} CPUs (nproc; {cpu}), {mem_kib / 1024 / 1024:.0f} GiB RAM, PostgreSQL {pg}"


def write_section(section):
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start_at = text.find("## Engine\n")
    if start_at < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start_at + 1)
        text = text[:start_at] + section + (text[end:] if end >= 0 else "")
    path.write_text(text)
