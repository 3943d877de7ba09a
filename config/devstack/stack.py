"""One data folder's stack: its lock, crash recovery, the servers and the children's environment.

A launcher that serves (``make run``) publishes its stack in ``<data dir>/stack.json`` (its pid,
``DATABASE_URL``, ``REDIS_URL``, ``PORT``; readable by its owner only) until it stops. A stack
opened with ``attach=True`` (``make shell``, ``make manage``, ``exec``) on a data folder whose
lock such a launcher holds uses those servers instead of refusing: it starts nothing, stops
nothing, and its commands are not tagged, so stopping ``make run`` does not end them.
"""

import json
import os
import signal
from pathlib import Path

from .places import DataLock, LauncherError, locate
from .procs import MARKER, stop_pids, tagged_processes
from .servers import Postgres, Valkey


class Stopped(Exception):
    """Raised by the launcher's signal handler: stop everything and exit."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def raise_stopped(signum, frame):
    raise Stopped(signum)


def install_signal_handlers():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_stopped)


def say(message):
    print(f"devstack: {message}", flush=True)


class Stack:
    """Use as a context manager: on entry the stack is up and ``env`` is ready for children.

    With ``DATABASE_URL`` / ``REDIS_URL`` set, the matching embedded server is not started. The
    children's environment always gets ``LOCAL_MODE=1``, ``DEV_DATA_DIR`` and the tag that lets a
    later launcher find what this one leaves behind if it is SIGKILLed.
    """

    def __init__(self, data_dir, *, fast=False, precheck=None, attach=False):
        self.data_dir = Path(data_dir).resolve()
        self.fast = fast
        self.precheck = precheck  # called once the lock is held, before any server starts
        self.attach = attach
        self.attached_to = None  # the serving launcher's pid, when attached
        self.lock = DataLock(self.data_dir)
        self.postgres = None
        self.valkey = None
        self.env = None

    @property
    def published(self):
        return self.data_dir / "stack.json"

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        self.data_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except LauncherError:
            if not (self.attach and self._attach()):
                raise
            return
        if self.precheck:
            self.precheck()
        self.env = self._child_env()
        places = None if os.environ.get("DATABASE_URL") else locate(self.data_dir)
        self._recover(places)
        if places is not None:
            if places.spilled:
                say(
                    f"PostgreSQL data kept in {places.pg_data} (the clone is not reachable by nobody)"
                )
            self.postgres = Postgres(places, self.env, fast=self.fast)
            self.postgres.start()
            self.env["DATABASE_URL"] = self.postgres.url
        if not os.environ.get("REDIS_URL"):
            self.valkey = Valkey(self.data_dir, self.env)
            self.valkey.start()
            self.env["REDIS_URL"] = self.valkey.url
        say(f"data in {self.data_dir}")
        say(f"DATABASE_URL={self.env['DATABASE_URL']}  REDIS_URL={self.env['REDIS_URL']}")

    def publish(self, **extra):
        """Let ``attach`` stacks use this one (module docstring)."""
        urls = {name: self.env[name] for name in ("DATABASE_URL", "REDIS_URL")}
        document = {"pid": os.getpid(), **urls, **{k: str(v) for k, v in extra.items()}}
        fd = os.open(self.published, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle)

    def _attach(self):
        """Use the stack a serving launcher published; False when there is none to use."""
        try:
            document = json.loads(self.published.read_text())
            os.kill(int(document["pid"]), 0)
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self.env = self._child_env(tagged=False)
        self.env.update({k: v for k, v in document.items() if k != "pid"})
        self.attached_to = int(document["pid"])
        say(f"using the stack of the launcher running as pid {self.attached_to}")
        return True

    def _child_env(self, tagged=True):
        env = dict(os.environ)
        env.pop("TEST_DATABASE_NAME", None)
        env.pop(MARKER, None)
        env.update(
            {
                **({MARKER: str(self.data_dir)} if tagged else {}),
                "LOCAL_MODE": "1",
                "DEV_DATA_DIR": str(self.data_dir),
                "PYTHONUNBUFFERED": "1",
                "DJANGO_SETTINGS_MODULE": env.get("DJANGO_SETTINGS_MODULE", "config.settings"),
            }
        )
        return env

    def _recover(self, places):
        """Stop what a killed launcher left on this data (we hold the lock, so it is orphaned)."""
        if places is not None:
            Postgres(places, self.env).recover()
        Valkey(self.data_dir, self.env).recover()
        orphans = tagged_processes(self.data_dir)
        if orphans:
            say(f"stopping {len(orphans)} orphaned process(es) left on this data: {orphans}")
            stop_pids(orphans)

    def server_pids(self):
        return {s.proc.pid for s in (self.postgres, self.valkey) if s and s.proc}

    def stop(self):
        """Stop every tagged process, then Valkey, then PostgreSQL; release the lock."""
        if self.lock.fd is None:
            return
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        self.published.unlink(missing_ok=True)
        stop_pids(tagged_processes(self.data_dir, exclude=self._server_tree()))
        if self.valkey:
            self.valkey.stop()
        if self.postgres:
            self.postgres.stop()
        leftovers = tagged_processes(self.data_dir)
        if leftovers:
            stop_pids(leftovers, sig=signal.SIGKILL, timeout=5)
        self.lock.release()
        say("stopped")

    def _server_tree(self):
        """The servers and their children (PostgreSQL's backends): stopped by their own means."""
        roots = self.server_pids()
        tree = set(roots)
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _parent_of(entry) in roots:
                tree.add(int(entry))
        return tree


def _parent_of(pid):
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    return int(raw[raw.rfind(")") + 2 :].split()[1])
