"""The job of an activity run (design 3), its inline chain, and enqueueing.

``run_activity(activity_run_id)`` is idempotent: it does nothing unless the activity run is due and
claimable. Steps: take the proof of life, claim (one committed statement, attempt + 1), run the
kind's handler and write its results in one transaction that first checks the claim is still
ours. In that same transaction the job claims the next ready step of the same run for itself
(``claims.claim_next``, its proof of life taken first) and runs it next, without going through
Redis: the *inline chain*. The other steps that became ready are enqueued on commit, for
parallelism; so is the continuation when ``scheduling.should_yield`` says the run should yield its
worker (fairness, job length, shutdown). A kill -9 anywhere in a chain leaves at most one step
``running`` with a free proof of life (the reconciler takes it over) and every other step either
recorded or pending and due: nothing is lost, nothing recorded twice.

Errors follow the campaign's error policy (design 5.4): retries (a due time in PostgreSQL), then
stop the run or ignore.

Connections: in the engine worker (``campaigns.engine.worker``, non-forking) Django's connection
and the proof-of-life connection stay open between jobs (``close_old_connections`` drops only
broken or expired ones); anywhere else (a forking rq worker) both are closed around the job.
Schema models (``audiences.dynamic``) are brought up to date once per job.
"""

import logging
import traceback as tb
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import close_old_connections, connections, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from audiences import durations
from audiences.models import Population
from campaigns.activities import registry
from campaigns.activities.base import Context, Waiting
from campaigns.engine import claim as claims
from campaigns.engine import progress, runtime, scheduling
from campaigns.engine.scheduling import JOB_TIMEOUT
from campaigns.models import FINAL_ACTIVITY, ActivityRun, ActivityRunStatus, Run, RunStatus
from campaigns.variables import typed

log = logging.getLogger(__name__)
S = ActivityRunStatus


class LostClaim(Exception):
    """Another attempt took over; this one's results are discarded."""


def _send(pk, place, due=None):
    target = scheduling.get_queue(place.queue)
    if due is not None and due > timezone.now():
        target.enqueue_at(due, run_activity, pk, job_timeout=JOB_TIMEOUT)
    else:
        target.enqueue(run_activity, pk, job_timeout=JOB_TIMEOUT, at_front=place.at_front)


def _remaining(ids):
    """{activity run id: activities left (not final) in its run}, in one query."""
    left = (
        ActivityRun.objects.filter(run_id=OuterRef("run_id"))
        .exclude(status__in=FINAL_ACTIVITY)
        .values("run_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = ActivityRun.objects.filter(pk__in=ids).annotate(left=Coalesce(Subquery(left), 0))
    return dict(rows.values_list("pk", "left"))


def _arrive(items):
    left = _remaining([pk for pk, _ in items])
    for pk, due in items:
        _send(pk, scheduling.arrival(left.get(pk, 0)), due)


def enqueue_now(ids) -> None:
    """Wake ``ids`` now (outside any transaction), each in the queue of its run's class."""
    if ids:
        _arrive([(pk, None) for pk in ids])


def enqueue_due(items) -> None:
    """``items``: ids (due now) or ``(id, due_at)`` pairs; enqueued when the transaction
    commits, each in the queue of its run's class (``scheduling.arrival``)."""
    items = [item if isinstance(item, tuple) else (item, None) for item in items]
    if items:
        transaction.on_commit(lambda: _arrive(items), robust=True)


def _enqueue_on_commit(ids, place):
    if ids:
        transaction.on_commit(lambda: [_send(pk, place) for pk in ids], robust=True)


@contextmanager
def _connections():
    resident = runtime.resident()
    close_old_connections() if resident else connections.close_all()
    try:
        yield
    finally:
        if resident:
            close_old_connections()
        else:
            connections.close_all()
            claims.proof.close()


def run_activity(activity_run_id: int) -> str:
    """The RQ job: claim ``activity_run_id`` if it is due, run it and chain (module docstring)."""
    job = scheduling.Job.current()
    with _connections():
        from audiences import dynamic

        dynamic.ensure_current()
        if not claims.proof.acquire(activity_run_id):
            return "busy"
        token, ar = claims.new_token(), None
        try:
            ar = claims.claim(activity_run_id, token)
        finally:
            if ar is None:
                claims.proof.release(activity_run_id)
        if ar is None:
            return _early(activity_run_id)
        return f"done: {_chain(ar, token, job)} step(s)"


def _early(activity_run_id):
    """A delayed job may fire up to a second early: send it again for its due time."""
    ar = ActivityRun.objects.filter(pk=activity_run_id, status__in=claims.CLAIMABLE).first()
    now = timezone.now()
    if ar is not None and ar.due_at and now < ar.due_at < now + timedelta(minutes=1):
        _arrive([(ar.pk, ar.due_at)])
        return "early"
    return "nothing to do"


@dataclass
class Chain:
    """One job's state while it chains the steps of one run."""

    run: Run
    token: str
    job: scheduling.Job
    graph: object = None
    ars: progress.ActivityRuns | None = None  # as of the last locked read
    populations: dict = field(default_factory=dict)  # id -> Population made in this chain
    claimed: ActivityRun | None = None  # the next step, claimed in the open transaction
    variables: dict | None = None


def _chain(ar, token, job):
    run = Run.objects.select_related("campaign").get(pk=ar.run_id)
    chain = Chain(run=run, token=token, job=job, graph=progress.graph_of(run))
    steps = 0
    while ar is not None:
        runtime.watch(ar.pk, token)
        try:
            nxt = _step(chain, ar)
        finally:
            runtime.watch(None, None)
            claims.proof.release(ar.pk)
        ar, steps = nxt, steps + 1
    return steps


def _step(chain, ar):
    """Run ``ar`` and record its outcome; return the next step, claimed inline, or None."""
    kind = registry.get(ar.type)
    try:
        with transaction.atomic():
            ctx = _context(chain, ar)
            outcome = kind.run(ctx)
            _record(chain, ar, kind, ctx, outcome)
    except LostClaim:
        _unclaim(chain)
        log.info("activity run %s: attempt %s lost its claim", ar.pk, ar.attempt)
    except Exception as exc:  # the error policy decides; the error is kept on the activity run
        _unclaim(chain)
        log.exception("activity run %s failed", ar.pk)
        try:
            with transaction.atomic():
                _fail(chain, ar, f"{type(exc).__name__}: {exc}", tb.format_exc())
        except BaseException:
            _unclaim(chain)
            raise
    except BaseException:
        _unclaim(chain)
        raise
    claimed, chain.claimed = chain.claimed, None
    return claimed


def _unclaim(chain):
    """The transaction that claimed the next step rolled back: free its proof of life."""
    if chain.claimed is not None:
        claims.proof.release(chain.claimed.pk)
        chain.claimed = None


def _inputs(chain, ar, ars):
    wanted = {}
    for t in chain.graph.inbound[ar.key]:
        if progress.inbound_state(t, ars) == "arrived":
            wanted[t["from"]] = ars[t["from"]].outputs[t["port"]]
    missing = [pk for pk in wanted.values() if pk not in chain.populations]
    if missing:
        chain.populations.update(Population.objects.select_related("schema").in_bulk(missing))
    return {key: chain.populations[pk] for key, pk in wanted.items()}


def _context(chain, ar):
    sources = [t["from"] for t in chain.graph.inbound[ar.key]]
    if chain.ars is None or any(key not in chain.ars.rows for key in sources):
        chain.ars = progress.ActivityRuns(chain.run, keys=sources)  # read, not locked
    if chain.variables is None:
        chain.variables = typed(chain.graph.definition["variables"], chain.run.variables)
    return Context(
        run=chain.run,
        activity_run=ar,
        key=ar.key,
        options=chain.graph.options(ar.key),
        inputs=_inputs(chain, ar, chain.ars),
        variables=chain.variables,
        test=chain.run.test,
        now=chain.run.started_at,
        state=dict(ar.state),
    )


def _locked(chain, ar):
    """Lock the run, then read the activity runs around ``ar`` (no row locks needed: only
    transactions holding the run row make an activity run final or ready)."""
    run = Run.objects.select_for_update().get(pk=ar.run_id)
    ars = progress.ActivityRuns(run, keys=progress.around(chain.graph, ar.key))
    chain.ars, chain.run.status = ars, run.status
    return run, ars


def _write(chain, ar, current, *fields):
    """Save ``fields`` of ``current`` if this attempt still holds the claim, else LostClaim (the
    reconciler took it over: its result is discarded)."""
    held = ActivityRun.objects.filter(
        pk=current.pk, status=S.RUNNING, attempt=ar.attempt, claimed_by=chain.token
    )
    if not held.update(**{name: getattr(current, name) for name in fields}):
        raise LostClaim()


def _record(chain, ar, kind, ctx, outcome):
    run, ars = _locked(chain, ar)
    current = ars[ar.key]
    current.state, current.claimed_by = ctx.state, ""
    if isinstance(outcome, Waiting):
        current.status, current.due_at = S.WAITING, outcome.due_at
        _write(chain, ar, current, "state", "claimed_by", "status", "due_at")
        enqueue_due([(current.pk, outcome.due_at)])
        progress.settle(run, ars)
        return
    ports = kind.ports_for(ctx.options)
    made = {p: outcome.get(p) for p in ports}
    current.outputs = {p: (made[p].pk if made[p] else None) for p in ports}
    current.counts = {p: (made[p].count if made[p] else None) for p in ports}
    current.status, current.finished_at, current.error = S.SUCCEEDED, timezone.now(), ""
    fields = ("state", "claimed_by", "outputs", "counts", "status", "finished_at", "error")
    _write(chain, ar, current, *fields)
    chain.populations.update({p.pk: p for p in made.values() if p is not None})
    _after_final(chain, run, ars, current)


def _after_final(chain, run, ars, current):
    if run.status in (RunStatus.STOPPED, RunStatus.FAILED):
        return
    ready = progress.advance(run, chain.graph, ars, [current.key])
    if run.status == RunStatus.PAUSED:
        progress.mark_due(ready)  # resume wakes them
    elif ready:
        _continue(chain, ars, ready)
    if chain.claimed is None or run.status != RunStatus.RUNNING:
        progress.settle(run, ars)  # a step claimed for this job keeps a running run running


def _continue(chain, ars, ready):
    """Claim the first ready step for this job unless the run should yield; save and enqueue
    the others."""
    rest = ready
    if not scheduling.should_yield(chain.job) and claims.proof.acquire(ready[0].pk):
        if claims.claim_next(ready[0], chain.token):
            chain.claimed, rest = ready[0], ready[1:]
        else:
            claims.proof.release(ready[0].pk)
    if rest:
        progress.mark_due(rest)
        remaining = sum(n for s, n in ars.statuses().items() if s not in FINAL_ACTIVITY)
        _enqueue_on_commit([ar.pk for ar in rest], scheduling.place(remaining))


def _fail(chain, ar, message, trace):
    run, ars = _locked(chain, ar)
    current = ars[ar.key]
    policy = chain.graph.definition["error_policy"]
    current.error, current.traceback, current.claimed_by = message, trace, ""
    try:
        if current.attempt <= int(policy.get("retries") or 0):
            delay = durations.parse(policy.get("retry_delay") or "1min")
            current.status, current.due_at = S.PENDING, timezone.now() + delay
            _write(chain, ar, current, "error", "traceback", "claimed_by", "status", "due_at")
            enqueue_due([(current.pk, current.due_at)])
            return
        current.status, current.finished_at, current.outputs = S.FAILED, timezone.now(), {}
        fields = ("error", "traceback", "claimed_by", "status", "finished_at", "outputs")
        _write(chain, ar, current, *fields)
    except LostClaim:
        return
    if policy.get("on_error") == "ignore":
        _after_final(chain, run, ars, current)
    else:
        progress.stop(run, status=RunStatus.FAILED, error=f"{current.key}: {message}")
