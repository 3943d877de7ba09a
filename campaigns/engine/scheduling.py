"""Which engine step runs next: fast chains, fair runs (issue 10).

Two RQ queues, which every engine worker serves in this order:

- ``engine`` (``urgent_name()``): the steps of *short* runs, with at most ``SHORT_STEPS``
  activities left (not final): a one-step test run, the end of a run woken after a wait;
- ``engine_long`` (``long_name()``): the steps of the other runs, oldest first.

Where a wake-up goes is decided when it is sent (``arrival``): a short run's to the back of
``engine``, a long run's to the back of ``engine_long`` (a new long run queues behind the older
ones).

A worker that finishes a step runs the next ready step of the same run itself (``jobs``: the
*inline* chain; no enqueue, dequeue or new connection between the two) and enqueues only the other
branches that became ready, for parallelism. Before each inline step it asks ``should_yield``:
yes when the worker was asked to stop, the job has run longer than ``JOB_SECONDS`` (a job's
timeout then bounds one step, not a whole chain) or a short run waits in ``engine``. Then the run
yields its worker: its continuation is enqueued (``place``) and the job ends.

``place``: a short run's continuation goes to the back of ``engine``; a long run's, and its extra
branches, to the *front* of ``engine_long``: the run being served keeps its place, so long runs
are served one after another, oldest first, instead of all interleaved to the end, while a short
run is served at the next step boundary of any worker. This is shortest-remaining-first in two
classes, counted in activities, and first-come-first-served within each.

When nothing waits, a run chains alone at full speed: each check is one Redis ``LLEN``.
"""

import time
from dataclasses import dataclass

import django_rq
from django.conf import settings
from rq import Queue

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


def get_queue(name: str) -> Queue:
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
    """What one RQ job knows while it chains: when it started, and the worker's stop flag
    (``stopping``, a callable)."""

    started: float
    stopping: object = None

    @classmethod
    def current(cls) -> "Job":
        return cls(started=time.monotonic(), stopping=runtime.stopping)


def short(remaining: int) -> bool:
    """True for a run with at most SHORT_STEPS activities left: it goes before long runs."""
    return remaining <= SHORT_STEPS


def waiting(name: str) -> int:
    return get_queue(name).count


def arrival(remaining: int) -> Place:
    """Where a wake-up from outside a chain goes (a run's start, a retry, the reconciler...)."""
    return Place(urgent_name() if short(remaining) else long_name())


def place(remaining: int) -> Place:
    """Where a continuation or an extra branch of a run being served goes."""
    if short(remaining):
        return Place(urgent_name())
    return Place(long_name(), at_front=True)


def should_yield(job: Job) -> bool:
    """True when the run should hand its next step to the queues instead of running it inline:
    the worker is stopping, the job is older than JOB_SECONDS, or a short run waits."""
    if (job.stopping and job.stopping()) or time.monotonic() - job.started > JOB_SECONDS:
        return True
    return waiting(urgent_name()) > 0
