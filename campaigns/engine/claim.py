"""Claims and proofs of life.

``ProofOfLife(activity_run_id)`` opens its own PostgreSQL connection and takes
``pg_try_advisory_lock(NAMESPACE, id)`` on it: a session lock that dies with the worker process.
The reconciler asks for the same lock: when it gets it while the activity run is ``running``, the
worker is gone. A job takes the lock *before* claiming, so no live job is ever mistaken for dead.
"""

import uuid

import psycopg
from django.db import connections, transaction
from django.utils import timezone

from campaigns.models import ActivityRun, ActivityRunStatus, RunStatus

NAMESPACE = 6161
CLAIMABLE = (ActivityRunStatus.PENDING, ActivityRunStatus.WAITING)
ACTIVE_RUN = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING)


def _connect():
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


class ProofOfLife:
    """Context manager: ``held`` tells whether the lock was obtained."""

    def __init__(self, activity_run_id):
        self.key = int(activity_run_id) % 2_147_483_647
        self.conn = None
        self.held = False

    def __enter__(self):
        self.conn = _connect()
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, self.key)
        ).fetchone()
        self.held = bool(row[0])
        return self

    def __exit__(self, *exc):
        try:
            if self.held:
                self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, self.key))
        finally:
            self.conn.close()
        return False


def claim(activity_run_id):
    """Claim the activity run if it is due and its run is active: ``(activity_run, token)`` or
    None. Committed at once (a short transaction)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        # Wait for the row rather than skip it: a finishing neighbour briefly locks every
        # activity run of the run, and skipping would drop this wake-up until the next tick.
        ar = (
            ActivityRun.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(
                pk=activity_run_id,
                status__in=CLAIMABLE,
                due_at__lte=now,
                run__status__in=ACTIVE_RUN,
            )
            .first()
        )
        if ar is None:
            return None
        ar.status = ActivityRunStatus.RUNNING
        ar.attempt += 1
        ar.claimed_by, ar.claimed_at, ar.heartbeat_at = token, now, now
        ar.started_at = ar.started_at or now
        ar.save()
    return ar, token


def still_holds(activity_run_id, attempt, token):
    """Lock the activity run (in the caller's transaction) if this attempt still holds it."""
    return (
        ActivityRun.objects.select_for_update()
        .filter(pk=activity_run_id, attempt=attempt, claimed_by=token)
        .filter(status=ActivityRunStatus.RUNNING)
        .first()
    )
