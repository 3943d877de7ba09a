"""Fixtures for campaign tests: a customer schema with records, and real worker processes.

``engine`` starts real engine workers (``manage.py campaigns_worker --also sending``: non-forking,
on the engine queues, with rq's scheduler) and one ``manage.py campaigns_tick`` (TICK_SECONDS=1,
RECONCILE_AFTER_SECONDS=3) as separate OS processes against the pytest database; tests must be
transactional so they see committed data.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.db import connection

from campaigns.activities import registry
from campaigns.engine import claim as claims

registry.add_module("tests.campaigns.kinds")  # the test-only kinds, here too

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def schema(transactional_db):
    """A fresh ``cust_<hex>`` schema (country, points) with 20 records; its table is dropped after."""
    from audiences.services.schemas import create_schemas

    name = f"cust_{uuid.uuid4().hex[:8]}"
    (created,) = create_schemas(
        document={
            "name": name,
            "primary_key": "customer_id",
            "targeting": {"email": "email"},
            "attributes": [
                {"name": "customer_id", "type": "string"},
                {"name": "email", "type": "string"},
                {"name": "country", "type": "string"},
                {"name": "points", "type": "integer"},
            ],
        }
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO data_{name} (customer_id, email, country, points) "
            "SELECT 'c' || i, 'c' || i || '@example.com', "
            "CASE WHEN i % 4 = 0 THEN 'DE' ELSE 'FR' END, i * 100 "
            "FROM generate_series(1, 20) AS i"
        )
    yield created
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS data_{name} CASCADE")


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


class Engine:
    def __init__(self):
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
            "RQ_QUEUE_PREFIX": settings.RQ_QUEUE_PREFIX,
            "REDIS_URL": settings.REDIS_URL,
            "LOCAL_MODE": "1",
            "TICK_SECONDS": "1",
            "RECONCILE_AFTER_SECONDS": "3",
            "CAMPAIGN_ACTIVITY_MODULES": "tests.campaigns.kinds",
        }
        self.processes = []
        self.queue_name = f"{settings.RQ_QUEUE_PREFIX}engine"

    def start(self, *args):
        """``manage.py ARGS`` as a process of its own, stopped with the others at the end."""
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def worker(self):
        """An engine worker that also sends (``channels.jobs``, the ``sending`` queue)."""
        return self.start("campaigns_worker", "--also", "sending")

    def workers(self, count):
        """Start ``count`` engine workers and wait until each is registered in Redis."""
        from rq import Worker

        started = [self.worker() for _ in range(count)]
        connection = django_rq.get_connection(self.queue_name)
        wait_for(lambda: {p.pid for p in started} <= {w.pid for w in Worker.all(connection)})
        return started

    def tick(self):
        return self.start("campaigns_tick")

    def kill(self, process):
        """SIGKILL the worker and every process it started (its rq scheduler); returns their
        pids, the worker's first."""
        pids = [process.pid, *_children(process.pid)]
        os.killpg(process.pid, signal.SIGKILL)
        for pid in pids[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=10)
        return pids

    def flush_redis(self):
        """Lose every job (engine and sending queues share the connection): FLUSHDB of this
        test's Redis database (FLUSHALL would hit the other databases of a shared server)."""
        django_rq.get_connection(self.queue_name).flushdb()

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture
def engine(transactional_db):
    engine = Engine()
    engine.flush_redis()
    yield engine
    engine.stop()
    engine.flush_redis()
    claims.proof.close()  # this process's own proof-of-life session, if a test opened it


def wait_for(predicate, timeout=60, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s")


def final_run(run, timeout=60):
    from campaigns.models import FINAL_RUN, Run

    return wait_for(
        lambda: (r := Run.objects.get(pk=run.pk)).status in FINAL_RUN and r, timeout=timeout
    )


BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
def events(transactional_db):
    """``ev_<hex>``: 20 records, country FR for 15, ``changed_at`` = 2026-01-01 + i hours,
    ``day`` = 2026-01-01 + i days."""
    from audiences.services.schemas import create_schemas

    name = f"ev_{uuid.uuid4().hex[:8]}"
    (created,) = create_schemas(
        document={
            "name": name,
            "primary_key": "event_id",
            "attributes": [
                {"name": "event_id", "type": "string"},
                {"name": "country", "type": "string"},
                {"name": "points", "type": "integer"},
                {"name": "changed_at", "type": "datetime"},
                {"name": "day", "type": "date"},
            ],
        }
    )
    insert(name, 1, 20)
    yield created
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS data_{name} CASCADE")


def insert(name, first, last):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO data_{name} (event_id, country, points, changed_at, day) "
            "SELECT 'e' || i, CASE WHEN i %% 4 = 0 THEN 'DE' ELSE 'FR' END, i * 10, "
            "%s::timestamptz + i * interval '1 hour', %s::date + i "
            "FROM generate_series(%s, %s) AS i",
            [BASE, BASE.date(), first, last],
        )
