"""The processes as a multi-host deployment runs them (README, "Running on several machines",
issue 10): 2 web processes (gunicorn), 3 workers (2 engine workers, 1 general worker for imports
and sends) and 2 ticks, each a separate process with its own environment and its own
``MEDIA_ROOT`` and ``DEV_DATA_DIR`` (hosts share no disk), against one PostgreSQL and one Redis.

Everything goes through HTTP, as REST clients would: a CSV posted to one web process is imported
by the general worker (it reads the file from PostgreSQL, ``UPLOADS_STORAGE``); 10 campaigns are
created and test-run through both web processes, alternately, and reach the exact counts of the
same rules in SQL while one engine worker and one tick are killed with SIGKILL in the middle.
Nothing runs twice: every run has one activity run per activity, and each population holds the
rows of its rule exactly once.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection

from campaigns.models import ActivityRun, Run, RunStatus
from tests.campaigns.conftest import ROOT, Engine, wait_for
from tests.conftest import RECORD_PERMISSIONS, staff_with

pytestmark = [pytest.mark.timeout(300)]
PERMISSIONS = (
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.view_campaign",
    "campaigns.test_run_campaign",
    "campaigns.view_run",
    *RECORD_PERMISSIONS,
)
NEW_ROWS = 40  # imported: c21 .. c60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hosts:
    """Processes, each started as if on a host of its own: own data folders, same secrets."""

    def __init__(self, tmp_path):
        self.base = Engine()  # the test database, Redis and queue prefix, TICK_SECONDS=1 ...
        self.tmp_path = tmp_path
        self.secret = uuid.uuid4().hex * 2
        self.processes = {}

    def start(self, name, *command):
        home = self.tmp_path / name
        (home / "media").mkdir(parents=True)
        env = {
            **self.base.env,
            "SECRET_KEY": self.secret,
            "MEDIA_ROOT": str(home / "media"),
            "DEV_DATA_DIR": str(home),
        }
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(home / "stderr", "wb"),  # noqa: SIM115 (closed with the process)
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def manage(self, name, *args):
        return self.start(name, sys.executable, "manage.py", *args)

    def web(self, name):
        port = free_port()
        self.start(
            name, sys.executable, "-m", "gunicorn", "config.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket",
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{url}/healthz"), timeout=60)
        return url

    def kill(self, name):
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answers, whatever it says
    except OSError:
        return False


class Client:
    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, content_type="application/json"):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def upload(self, path, filename, content):
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
                f"\r\nContent-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.call("POST", path, body, f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def hosts(transactional_db, tmp_path):
    hosts = Hosts(tmp_path)
    hosts.base.flush_redis()
    yield hosts
    hosts.stop()
    hosts.base.flush_redis()


def campaign_document(schema, i):
    """Audience ``points >= i * 300``, a slow step (so kills land mid-run), then an end."""
    return {
        "name": f"Multi-host {i}",
        "activities": [
            {
                "id": "aud",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "points", "op": "gte", "value": i * 300},
            },
            {"id": "wait", "type": "slow", "seconds": 2},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": "wait"}, {"from": "wait", "to": "done"}],
    }


def sql_count(schema, minimum):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM data_{schema.name} WHERE points >= %s", [minimum])
        return cursor.fetchone()[0]


def imported(schema, client):
    csv = "customer_id,email,country,points\n" + "".join(
        f"c{i},c{i}@example.com,FR,{i * 100}\n" for i in range(21, 21 + NEW_ROWS)
    )
    status, body = client.upload(f"/api/schemas/{schema.name}/imports/", "more.csv", csv.encode())
    assert status == 202, body
    path = f"/api/schemas/{schema.name}/imports/{body['id']}/"
    return wait_for(lambda: (b := client.call("GET", path)[1])["status"] == "succeeded" and b, 90)


def test_two_webs_three_workers_two_ticks_on_separate_hosts(schema, hosts):
    token = _token(staff_with(*PERMISSIONS, name="operator"))
    webs = [Client(hosts.web(f"web{n}"), token) for n in (1, 2)]
    hosts.manage("engine1", "campaigns_worker")
    hosts.manage("engine2", "campaigns_worker")
    prefix = hosts.base.env["RQ_QUEUE_PREFIX"]
    queues = [f"{prefix}{q}" for q in ("default", "imports", "sending")]
    hosts.manage("general", "rqworker", "--with-scheduler", *queues)
    hosts.manage("tick1", "campaigns_tick")
    hosts.manage("tick2", "campaigns_tick")

    done = imported(schema, webs[0])  # posted to web1, its file on no disk the worker reads
    assert (done["rows"], done["written"], done["rejected"]) == (NEW_ROWS, NEW_ROWS, 0)

    runs = []
    for i in range(10):
        web = webs[i % 2]
        status, campaign = web.call("POST", "/api/campaigns/", campaign_document(schema, i))
        assert status == 201, campaign
        status, run = web.call("POST", f"/api/campaigns/{campaign['id']}/test-run/")
        assert status in (200, 201, 202), run
        runs.append(run["id"])
    wait_for(lambda: ActivityRun.objects.filter(run_id__in=runs, key="wait", status="running"))
    hosts.kill("engine1")  # whatever it was running is taken over by the other one
    hosts.kill("tick1")

    def all_finished():
        found = list(Run.objects.filter(pk__in=runs))
        return found if all(r.finished_at for r in found) else None

    finished = wait_for(all_finished, timeout=180)
    assert {r.status for r in finished} == {RunStatus.SUCCEEDED}, [r.error for r in finished]
    for i, run_id in enumerate(runs):
        expected = sql_count(schema, i * 300)
        status, body = webs[(i + 1) % 2].call("GET", f"/api/runs/{run_id}/")
        assert status == 200, body
        ars = ActivityRun.objects.filter(run_id=run_id)
        assert sorted(ars.values_list("key", flat=True)) == ["aud", "done", "wait"]
        counts = {ar.key: ar.counts.get("out") for ar in ars if ar.key != "done"}
        assert counts == {"aud": expected, "wait": expected}, (i, counts)
    assert Run.objects.filter(campaign__name__startswith="Multi-host").count() == 10


def _token(user):
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key
