"""The engine's wake-ups (design 9): anything that finishes outside a job (a human task, a
delivery) reaches a waiting activity run through here.

- ``wake(activity_run_id) -> bool``: a WAITING activity run becomes due now and is enqueued when
  the transaction commits; its kind's ``run`` is called again with the same state. Nothing
  happens for an activity run that is not waiting (already woken, finished, cancelled). Safe to
  call any number of times.
- ``cancel(activity_run_id, reason) -> bool``: a WAITING activity run ends ``cancelled`` with
  ``reason`` as its error (the run says why), its ports carry nothing (what depends only on it is
  skipped) and the run moves on. Used by kinds whose wait ends without a result (a send
  confirmation rejected or expired): ``cancel_on_commit`` schedules it after the job's own
  transaction, since a kind cannot end its own activity run while the engine holds it.
- ``on_delivery_ended``: the receiver of ``channels.signals.delivery_ended`` (connected in
  ``CampaignsConfig.ready``): wakes the delivery's activity run.
"""

from django.db import transaction
from django.utils import timezone

from campaigns.engine import jobs, progress
from campaigns.models import ActivityRun, ActivityRunStatus, Run, RunStatus

S = ActivityRunStatus


def wake(activity_run_id) -> bool:
    if activity_run_id is None:
        return False
    with transaction.atomic():
        woken = ActivityRun.objects.filter(pk=activity_run_id, status=S.WAITING).update(
            due_at=timezone.now()
        )
        if woken:
            jobs.enqueue_due([activity_run_id])
    return bool(woken)


@transaction.atomic
def cancel(activity_run_id, reason: str) -> bool:
    ar = ActivityRun.objects.filter(pk=activity_run_id).only("run_id", "key").first()
    if ar is None:
        return False
    run = Run.objects.select_for_update().select_related("version").get(pk=ar.run_id)
    graph = progress.graph_of(run)
    ars = progress.ActivityRuns(run, keys=progress.around(graph, ar.key))
    current = ars.get(ar.key)
    if current is None or current.status != S.WAITING:
        return False
    current.status, current.finished_at = S.CANCELLED, timezone.now()
    current.error, current.outputs, current.counts = reason, {}, {}
    current.save(update_fields=["status", "finished_at", "error", "outputs", "counts"])
    if run.status in (RunStatus.STOPPED, RunStatus.FAILED):
        return True
    due = progress.advance(run, graph, ars, [current.key])
    progress.mark_due(due)
    progress.settle(run, ars)
    if run.status != RunStatus.PAUSED:
        jobs.enqueue_due([a.pk for a in due])
    return True


def cancel_on_commit(activity_run_id, reason: str) -> None:
    transaction.on_commit(lambda: cancel(activity_run_id, reason))


def on_delivery_ended(sender, activity_run_id=None, **kwargs):
    wake(activity_run_id)
