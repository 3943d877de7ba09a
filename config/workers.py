"""RQ workers that stay visible after Redis loses its data (FLUSHALL, a restart without persistence).

rq registers a worker once, at birth (a hash ``rq:worker:<name>`` and the sets ``rq:workers`` and
``rq:workers:<queue>``). After a FLUSHALL the worker keeps working but is no longer listed, so
``/healthz`` and the django-rq dashboard read 0. ``Reregistering`` writes the registration again on
every heartbeat, and makes heartbeats frequent: an idle worker wakes from its blocking pop every
``REGISTRATION_SECONDS``, a busy forking one checks its work horse as often. So a flushed worker
is listed again within about ``REGISTRATION_SECONDS``.

``Worker`` is the forking worker of the ``default`` and ``imports`` queues (``RQ["WORKER_CLASS"]``
in settings, so plain ``manage.py rqworker`` uses it); the engine queues have their own
non-forking worker, ``campaigns.engine.worker.EngineWorker`` (``manage.py campaigns_worker``).
"""

from rq import worker_registration
from rq.worker import Worker as ForkingWorker

REGISTRATION_SECONDS = 5


class Reregistering:
    """Mixin for rq worker classes (first in the bases)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.job_monitoring_interval = min(self.job_monitoring_interval, REGISTRATION_SECONDS)

    @property
    def dequeue_timeout(self) -> int:
        return REGISTRATION_SECONDS

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if self.birth_date is None:  # not registered yet (or a copy built to be read)
            return
        connection = pipeline if pipeline is not None else self.connection
        connection.hset(self.key, mapping=self.serialize())
        worker_registration.register(self, connection)


class Worker(Reregistering, ForkingWorker):
    """rq's forking worker, re-registering itself (module docstring)."""
