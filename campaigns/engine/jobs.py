"""The job of one activity run (design 3), and enqueueing.

``run_activity(activity_run_id)`` is idempotent: it does nothing unless the activity run is due and
claimable. Steps: take the proof of life, claim (short transaction, attempt + 1), run the kind's
handler and write its results in one transaction that first checks the claim is still ours, then
enqueue on commit whatever became ready. Errors follow the campaign's error policy (design 5.4):
retries (a due time in PostgreSQL), then stop the run or ignore.
"""

import logging
import traceback as tb
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from audiences import durations
from audiences.models import Population
from campaigns.activities import registry
from campaigns.activities.base import Context, Waiting
from campaigns.engine import claim as claims
from campaigns.engine import progress
from campaigns.models import ActivityRunStatus, Run, RunStatus
from campaigns.variables import typed

log = logging.getLogger(__name__)
S = ActivityRunStatus


class LostClaim(Exception):
    """Another attempt took over; this one's results are discarded."""


def queue():
    return django_rq.get_queue(f"{settings.RQ_QUEUE_PREFIX}engine", commit_mode="auto")


def enqueue_now(ids):
    for pk in ids:
        queue().enqueue(run_activity, pk, job_timeout=6 * 3600)


def enqueue_due(items):
    """``items``: ids (due now) or ``(id, due_at)`` pairs; enqueued when the transaction commits."""
    items = list(items)

    def send():
        now = timezone.now()
        for item in items:
            pk, due = item if isinstance(item, tuple) else (item, None)
            if due is None or due <= now:
                queue().enqueue(run_activity, pk, job_timeout=6 * 3600)
            else:
                queue().enqueue_at(due, run_activity, pk, job_timeout=6 * 3600)

    if items:
        transaction.on_commit(send)


def run_activity(activity_run_id):
    close_old_connections()
    connections.close_all()
    try:
        from audiences import dynamic

        dynamic.ensure_current()
        with claims.ProofOfLife(activity_run_id) as proof:
            if not proof.held:
                return "busy"
            claimed = claims.claim(activity_run_id)
            if claimed is None:
                return _early(activity_run_id)
            _work(*claimed)
            return "done"
    finally:
        connections.close_all()


def _early(activity_run_id):
    """A delayed job may fire up to a second early: send it again for its due time."""
    from campaigns.models import ActivityRun

    ar = ActivityRun.objects.filter(pk=activity_run_id, status__in=claims.CLAIMABLE).first()
    now = timezone.now()
    if ar is not None and ar.due_at and now < ar.due_at < now + timedelta(minutes=1):
        queue().enqueue_at(ar.due_at, run_activity, ar.pk, job_timeout=6 * 3600)
        return "early"
    return "nothing to do"


def _context(ar, run, graph):
    ars = {a.key: a for a in run.activity_runs.all()}
    inputs = {}
    for t in graph.inbound[ar.key]:
        if progress.inbound_state(t, ars) == "arrived":
            inputs[t["from"]] = Population.objects.get(pk=ars[t["from"]].outputs[t["port"]])
    declared = run.version.definition["variables"]
    return Context(
        run=run,
        activity_run=ar,
        key=ar.key,
        options=graph.options(ar.key),
        inputs=inputs,
        variables=typed(declared, run.variables),
        test=run.test,
        now=run.started_at,
        state=dict(ar.state),
    )


def _work(ar, token):
    run = Run.objects.select_related("version", "campaign").get(pk=ar.run_id)
    graph = progress.graph_of(run)
    kind = registry.get(ar.type)
    try:
        with transaction.atomic():
            ctx = _context(ar, run, graph)
            outcome = kind.run(ctx)
            _record(ar, token, kind, ctx, outcome)
    except LostClaim:
        log.info("activity run %s: attempt %s lost its claim", ar.pk, ar.attempt)
    except Exception as exc:  # the error policy decides; the error is kept on the activity run
        log.exception("activity run %s failed", ar.pk)
        with transaction.atomic():
            _fail(ar, token, f"{type(exc).__name__}: {exc}", tb.format_exc())


def _locked(ar, token):
    run = Run.objects.select_for_update().select_related("version").get(pk=ar.run_id)
    current = claims.still_holds(ar.pk, ar.attempt, token)
    if current is None:
        raise LostClaim()
    return run, current


def _record(ar, token, kind, ctx, outcome):
    run, current = _locked(ar, token)
    now = timezone.now()
    current.state, current.claimed_by = ctx.state, ""
    if isinstance(outcome, Waiting):
        current.status, current.due_at = S.WAITING, outcome.due_at
        current.save()
        enqueue_due([(current.pk, outcome.due_at)])
        progress.settle(run, progress.activity_runs(run))
        return
    ports = kind.ports_for(ctx.options)
    current.outputs = {p: (outcome.get(p).pk if outcome.get(p) else None) for p in ports}
    current.counts = {p: (outcome[p].count if outcome.get(p) else None) for p in ports}
    current.status, current.finished_at, current.error = S.SUCCEEDED, now, ""
    current.save()
    _after_final(run, current)


def _after_final(run, current):
    if run.status in (RunStatus.STOPPED, RunStatus.FAILED):
        return
    ars = progress.activity_runs(run)
    due = progress.advance(run, progress.graph_of(run), ars, [current.key])
    progress.settle(run, ars)
    if run.status != RunStatus.PAUSED:
        enqueue_due(due)


def _fail(ar, token, message, trace):
    try:
        run, current = _locked(ar, token)
    except LostClaim:
        return
    policy = run.version.definition["error_policy"]
    current.error, current.traceback, current.claimed_by = message, trace, ""
    if current.attempt <= int(policy.get("retries") or 0):
        delay = durations.parse(policy.get("retry_delay") or "1min")
        current.status, current.due_at = S.PENDING, timezone.now() + delay
        current.save()
        enqueue_due([(current.pk, current.due_at)])
        return
    current.status, current.finished_at = S.FAILED, timezone.now()
    current.outputs = {}
    current.save()
    if policy.get("on_error") == "ignore":
        _after_final(run, current)
    else:
        progress.stop(run, status=RunStatus.FAILED, error=f"{current.key}: {message}")
