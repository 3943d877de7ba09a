"""The engine worker: ``manage.py campaigns_worker`` (run as many as needed, on any machines).

``EngineWorker`` is rq's ``SimpleWorker`` (no fork: a job runs in the worker process itself) on
the engine queues, ``engine`` then ``engine_long`` (``scheduling``), so that a step costs no fork,
no new PostgreSQL connection and, inside a chain, no Redis round trip:

- Django's connection is kept between jobs (``close_old_connections`` after each job drops it
  only when broken or older than ``DATABASE_CONN_MAX_AGE``);
- the proof-of-life connection (``claims.proof``) is kept too, and a heartbeat thread
  (``claims.Heartbeat``) beats for the step being worked on and re-registers the worker in Redis
  (``config.workers.Reregistering``: listed again soon after a FLUSHALL, even while busy);
- before any fork of this process (rq restarting its scheduler process between jobs), both
  connections are closed, so no child ever shares a PostgreSQL session with it;
- SIGTERM: the chain being run yields at its next step (its continuation is enqueued), then the
  worker exits (rq's warm shutdown); a second SIGTERM or SIGKILL ends it at once, and the
  reconciler takes over the step it was in.

Memory stays flat: populations live in PostgreSQL, never in the worker.
"""

import logging
import os

from django.db import connections
from rq.worker import SimpleWorker

from campaigns.engine import claim as claims
from campaigns.engine import runtime
from config.workers import REGISTRATION_SECONDS, Reregistering

log = logging.getLogger(__name__)
_fork_hook = []


def _close_before_fork():
    """Between jobs only: a fork in the middle of a step (a kind's own subprocess) keeps them."""
    if claims.proof.idle and not any(c.in_atomic_block for c in connections.all()):
        connections.close_all()
        claims.proof.close()


class EngineWorker(Reregistering, SimpleWorker):
    """Non-forking rq worker for the engine queues (module docstring)."""

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)  # registered: the heartbeat may re-register from now
        if not _fork_hook:
            os.register_at_fork(before=_close_before_fork)
            _fork_hook.append(True)
        self._beats = claims.Heartbeat(also=self.heartbeat, interval=REGISTRATION_SECONDS)
        runtime.install(stopping=lambda: self._stop_requested, heartbeat=self._beats)
        self._beats.start()

    def teardown(self):
        beats = getattr(self, "_beats", None)
        if beats is not None:  # before the death is registered, or a beat would undo it
            beats.stop()
            beats.join(timeout=10)
        try:
            super().teardown()
        finally:
            claims.proof.close()
            connections.close_all()
