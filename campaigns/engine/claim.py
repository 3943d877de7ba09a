"""Claims, proofs of life and heartbeats (design 3).

**Proof of life.** ``proof`` is this process's own PostgreSQL connection (autocommit), opened on
first use and kept open between jobs. A job takes ``pg_try_advisory_lock(NAMESPACE, id)`` on it
*before* claiming an activity run and releases it when the step's result is committed; the lock is
a session lock, so PostgreSQL frees it as soon as the process dies (on another machine: within
about ``stale_seconds() / 2``, through the server-side TCP keepalives set on that connection).

**Heartbeat.** While a step is claimed, a thread of the worker sets the activity run's
``heartbeat_at`` to PostgreSQL's clock every ``heartbeat_seconds()``, on the same connection.

**Takeover rule** (``reconciler``): a ``running`` activity run whose heartbeat is older than
``stale_seconds()`` *and* whose lock is free belongs to a dead worker. The lock makes it certain
(no live job is ever mistaken for dead); the heartbeat only adds a grace period for a proof
connection that dropped while its worker lives. With ``S = stale_seconds()`` and the tick every
``TICK_SECONDS`` (``T``), a dead worker's step is taken over at most ``S + T`` after its last
heartbeat, which is within ``RECONCILE_AFTER_SECONDS`` (``R``): ``S = min(R / 2, R - 2T)``, at
least one second.

**Claims.** ``claim(id, token)`` is one ``UPDATE ... RETURNING`` (attempt + 1, committed at once);
``claim_next(ar, token)`` claims a successor inside the transaction that records its predecessor,
so an inline chain (``jobs``) never leaves a step unclaimed and unqueued. Results are written only
by the attempt whose ``claimed_by`` token still holds the row (``jobs``: an ``UPDATE`` conditional
on it).
"""

import logging
import threading
import uuid

import psycopg
from django.conf import settings
from django.db import connections
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from campaigns.models import ActivityRun, ActivityRunStatus, Run, RunStatus

log = logging.getLogger(__name__)
NAMESPACE = 6161
CLAIMABLE = (ActivityRunStatus.PENDING, ActivityRunStatus.WAITING)
ACTIVE_RUN = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING)
TABLE = ActivityRun._meta.db_table
RUNS = Run._meta.db_table


def stale_seconds() -> float:
    """Seconds without heartbeat after which a step whose lock is free is taken over."""
    reconcile, tick = settings.RECONCILE_AFTER_SECONDS, settings.TICK_SECONDS
    return max(1.0, min(reconcile / 2, reconcile - 2 * tick))


def heartbeat_seconds() -> float:
    return stale_seconds() / 4


def new_token() -> str:
    return uuid.uuid4().hex


def _key(activity_run_id):
    return int(activity_run_id) % 2_147_483_647


def _connect():
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    idle = max(1, int(stale_seconds() / 4))
    keepalives = (
        f"-c tcp_keepalives_idle={idle} -c tcp_keepalives_interval={idle} -c tcp_keepalives_count=2"
    )
    params["options"] = f"{params.get('options', '')} {keepalives}".strip()
    params["application_name"] = "campaigns proof of life"
    return psycopg.connect(**params, autocommit=True)


class Proof:
    """The process's proof-of-life connection and the locks it holds (thread-safe).

    ``acquire(id) -> bool`` takes the lock (False when another process holds it);
    ``release(id)`` frees it; ``beat(id, token)`` refreshes the heartbeat of a claimed step
    (skipping a row that a transaction holds at that instant); ``close()`` drops the connection,
    and with it every lock (the worker calls it only between jobs, e.g. before a fork).
    """

    def __init__(self):
        self.conn = None
        self.held = set()
        self.mutex = threading.RLock()

    def _connection(self):
        if self.conn is None or self.conn.closed or self.conn.broken:
            self._drop()
            self.conn = _connect()
        return self.conn

    def _drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
        self.conn = None
        self.held.clear()

    def _execute(self, sql, params):
        with self.mutex:
            try:
                return self._connection().execute(sql, params).fetchone()
            except psycopg.OperationalError:
                self._reconnect()
                return self.conn.execute(sql, params).fetchone()

    def _reconnect(self):
        """A dropped connection lost its locks: take them again on a new one where still free
        (where not, the reconciler took that step over, and its claim check will say so)."""
        lost = set(self.held)
        self._drop()
        conn = self._connection()
        for pk in lost:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, _key(pk)))
            if row.fetchone()[0]:
                self.held.add(pk)

    def acquire(self, activity_run_id: int) -> bool:
        with self.mutex:
            if activity_run_id in self.held:
                return False
            row = self._execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, _key(activity_run_id))
            )
            if row[0]:
                self.held.add(activity_run_id)
            return bool(row[0])

    def release(self, activity_run_id: int) -> None:
        with self.mutex:
            if activity_run_id not in self.held:
                return
            self.held.discard(activity_run_id)
            try:
                self.conn.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, _key(activity_run_id))
                )
            except psycopg.Error:
                self._drop()  # the session, and every lock on it, is gone anyway

    def beat(self, activity_run_id: int, token: str) -> None:
        self._execute(
            f"UPDATE {TABLE} SET heartbeat_at = statement_timestamp() WHERE id = ("
            f"SELECT id FROM {TABLE} WHERE id = %s AND claimed_by = %s "
            "FOR NO KEY UPDATE SKIP LOCKED) RETURNING id",
            (activity_run_id, token),
        )

    def close(self) -> None:
        with self.mutex:
            self._drop()

    @property
    def idle(self) -> bool:
        return not self.held


proof = Proof()


class Heartbeat(threading.Thread):
    """A worker's heartbeat thread: every ``interval`` (at most ``heartbeat_seconds()``) it beats
    for the step being worked on (``watch(id, token)``; ``watch(None, None)`` when idle) and
    calls ``also()`` (the rq worker's own heartbeat), busy or not. ``stop()`` ends it."""

    def __init__(self, also=None, interval=None):
        super().__init__(name="campaigns heartbeat", daemon=True)
        self.current = None
        self.also = also
        self.interval = min(heartbeat_seconds(), interval or heartbeat_seconds())
        self.done = threading.Event()

    def watch(self, activity_run_id: int | None, token: str | None) -> None:
        self.current = (activity_run_id, token) if activity_run_id else None

    def stop(self) -> None:
        self.done.set()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self._safely(self._step)
            if self.also:
                self._safely(self.also)

    def _step(self):
        current = self.current
        if current:
            proof.beat(*current)

    @staticmethod
    def _safely(beat):
        try:
            beat()
        except Exception:  # a missed beat is retried at the next one
            log.warning("heartbeat failed", exc_info=True)


def claim(activity_run_id: int, token: str) -> ActivityRun | None:
    """Claim the activity run if it is due and its run is active (one committed statement)."""
    now = timezone.now()
    claimed = ActivityRun.objects.raw(
        f"UPDATE {TABLE} ar SET status = %s, attempt = ar.attempt + 1, claimed_by = %s, "
        "claimed_at = statement_timestamp(), heartbeat_at = statement_timestamp(), "
        f"started_at = coalesce(ar.started_at, %s) FROM {RUNS} r "
        "WHERE ar.id = %s AND r.id = ar.run_id AND ar.status = ANY(%s) AND ar.due_at <= %s "
        "AND r.status = ANY(%s) RETURNING ar.*",
        [
            ActivityRunStatus.RUNNING,
            token,
            now,
            activity_run_id,
            list(CLAIMABLE),
            now,
            list(ACTIVE_RUN),
        ],
    )
    return next(iter(claimed), None)


def claim_next(ar: ActivityRun, token: str) -> bool:
    """Claim ``ar``, a step that the caller's transaction (holding its run's row) just made
    ready, for this worker; False if it is no longer pending."""
    now = timezone.now()
    claimed = ActivityRun.objects.filter(pk=ar.pk, status=ActivityRunStatus.PENDING).update(
        status=ActivityRunStatus.RUNNING,
        attempt=F("attempt") + 1,
        claimed_by=token,
        claimed_at=Now(),
        heartbeat_at=Now(),
        started_at=Coalesce("started_at", Value(now)),
        due_at=Coalesce("due_at", Value(now)),
    )
    if not claimed:
        return False
    ar.status, ar.attempt, ar.claimed_by = ActivityRunStatus.RUNNING, ar.attempt + 1, token
    ar.claimed_at = ar.heartbeat_at = now
    ar.started_at, ar.due_at = ar.started_at or now, ar.due_at or now
    return True
