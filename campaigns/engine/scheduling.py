"""Which engine step runs next: fast chains, fair runs (issue 10).

Two RQ queues, which every engine worker serves in this order:

- ``engine`` (``urgent_name()``): every wake-up from outside the engine (a run's start, resume, a
  decided task, a due wait or retry, the reconciler), and the steps of *short* runs: runs with at
  most ``SHORT_STEPS`` activities left (not final);
- ``engine_long`` (``long_name()``): the steps of the other runs, oldest first.

A worker that finishes a step runs the next ready step of the same run itself (``jobs``: the
*inline* chain; no enqueue, dequeue or new connection between the two) and enqueues only the other
branches that became ready, for parallelism. Before each inline step it asks ``placement``: None
(go on inline) unless the worker was asked to stop, the job has run longer than ``JOB_SECONDS``
(a job's timeout then bounds one step, not a whole chain) or something waits in ``engine``. Then
the run yields its worker: its continuation is enqueued (``place``) and the job ends.

``place``: a short run's steps go to the back of ``engine``; a long run's to the *front* of
``engine_long``: it keeps its place, so long runs are served one after another, oldest first,
instead of all interleaved to the end. A job that comes out of ``engine`` for a long run while
``engine_long`` has work is moved to the back of ``engine_long`` unrun (``jobs``): a new long run
queues behind the older ones, while a short one (a one-step test run, the last steps of a run
after a wait or a decided task) is served at the next step boundary of any worker. This is
shortest-remaining-first in two classes, counted in activities, and first-come-first-served
within each.

When nothing waits, a run chains alone at full speed: each check is one Redis ``LLEN``.
"""

import time
from dataclasses import dataclass

import django_rq
from django.conf import settings

from campaigns.engine import runtime

SHORT_STEPS = 3
JOB_SECONDS = 30.0
JOB_TIMEOUT = 6 * 3600  # one step; a chain yields after JOB_SECONDS


def urgent_name() -> str:
    return f"{settings.RQ_QUEUE_PREFIX}engine"


def long_name() -> str:
    return f"{settings.RQ_QUEUE_PREFIX}engine_long"


def queue_names() -> list[str]:
    """The engine's queues, in the order a worker serves them."""
    return [urgent_name(), long_name()]


_queues = {}


def get_queue(name: str):
    """The queue ``name``, enqueueing at once (callers use on_commit themselves); cached per
    process, so every check and enqueue reuses one Redis connection pool (django_rq builds a new
    client, hence a new TCP connection, on each ``get_queue``)."""
    key = (name, settings.RQ_QUEUES[name]["URL"])
    if key not in _queues:
        _queues[key] = django_rq.get_queue(name, commit_mode="auto")
    return _queues[key]


@dataclass(frozen=True)
class Place:
    queue: str
    at_front: bool = False


@dataclass
class Job:
    """What one RQ job knows while it chains: the queue it came from (``origin``), when it
    started, and the worker's stop flag (``stopping``, a callable)."""

    origin: str
    started: float
    stopping: object = None

    @classmethod
    def current(cls) -> "Job":
        from rq import get_current_job

        job = get_current_job()
        origin = job.origin if job is not None else urgent_name()
        return cls(origin=origin, started=time.monotonic(), stopping=runtime.stopping)

    @property
    def from_long(self) -> bool:
        return self.origin == long_name()


def short(remaining: int) -> bool:
    """True for a run with at most SHORT_STEPS activities left: it goes before long runs."""
    return remaining <= SHORT_STEPS


def waiting(name: str) -> int:
    return get_queue(name).count


def place(remaining: int) -> Place:
    """Where a continuation or an extra branch of a run with ``remaining`` activities left goes."""
    if short(remaining):
        return Place(urgent_name())
    return Place(long_name(), at_front=True)


def placement(remaining: int, job: Job) -> Place | None:
    """None to run the next step inline, else where to enqueue it (module docstring)."""
    if (job.stopping and job.stopping()) or time.monotonic() - job.started > JOB_SECONDS:
        return place(remaining)
    if waiting(urgent_name()):
        return place(remaining)
    return None


def behind_older(job: Job, remaining) -> bool:
    """True when this job, out of ``engine``, belongs behind the long runs already waiting:
    its run is long (``remaining()``, asked only then, counts its activities left)."""
    return not job.from_long and waiting(long_name()) > 0 and not short(remaining())
