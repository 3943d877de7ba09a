"""The reconciler: one periodic tick over PostgreSQL state (``manage.py campaigns_tick``).

``tick() -> dict`` of counts:
- ``orphans``: running activity runs whose worker died, taken over: their heartbeat is older than
  ``claims.stale_seconds()`` and their proof of life is free (``claims``: within
  ``RECONCILE_AFTER_SECONDS`` of the death). They go back to pending, due now, and are enqueued;
- ``due``: pending or waiting activity runs of active runs whose due time passed more than
  ``RECONCILE_AFTER_SECONDS`` ago are enqueued again (their wake-up job was lost, e.g. with Redis)
  and their due time moved to now, so each is re-sent at most once per that interval;
- ``reminded``: open tasks about to expire whose approvers were reminded (once per task,
  ``campaigns.services.tasks.remind_due``);
- ``launched``: scheduled campaigns whose ``next_launch_at`` passed start their run;
- ``purged``: populations of runs finished more than ``POPULATION_RETENTION_DAYS`` ago are dropped
  (``purge_populations``; at most every ``PURGE_EVERY_SECONDS`` per process).
Jobs being idempotent, a duplicate wake-up costs one cheap query.
"""

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from audiences import imports, populations
from campaigns.engine import claim as claims
from campaigns.engine import jobs
from campaigns.engine.claim import ACTIVE_RUN
from campaigns.models import FINAL_RUN, ActivityRun, ActivityRunStatus, Run
from campaigns.services.tasks import expire_due as expire_tasks
from campaigns.services.tasks import remind_due as remind_tasks
from channels.services import tick as deliveries_tick

S = ActivityRunStatus
PURGE_EVERY_SECONDS = 60
_last_purge = {"at": None}


def _stale():
    return timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)


def requeue_due() -> int:
    with transaction.atomic():
        ids = list(
            ActivityRun.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=(S.PENDING, S.WAITING),
                due_at__lte=_stale(),
                run__status__in=ACTIVE_RUN,
            )
            .values_list("pk", flat=True)
        )
        ActivityRun.objects.filter(pk__in=ids).update(due_at=timezone.now())
        jobs.enqueue_due(ids)
    return len(ids)


def silent() -> QuerySet:
    """Running activity runs whose heartbeat is stale (PostgreSQL's clock on both sides)."""
    stale = Now() - timedelta(seconds=claims.stale_seconds())
    return (
        ActivityRun.objects.filter(status=S.RUNNING)
        .alias(beat=Coalesce("heartbeat_at", "claimed_at"))
        .filter(beat__lt=stale)
    )


def recover_orphans() -> int:
    recovered = 0
    for pk in list(silent().values_list("pk", flat=True)):
        if not claims.proof.acquire(pk):
            continue  # its worker lives
        try:
            count = (
                silent()
                .filter(pk=pk)
                .update(status=S.PENDING, due_at=timezone.now(), claimed_by="")
            )
        finally:
            claims.proof.release(pk)
        if count:
            recovered += 1
            jobs.enqueue_now([pk])
    return recovered


def launch_scheduled() -> int:
    from campaigns import services

    return services.launch_due()


def protected_populations(cutoff: datetime) -> RawSQL:
    """Ids of the populations on the transitions of runs still going, or finished after
    ``cutoff``: SQL for ``populations.purge(protected=...)``."""
    ars, runs = ActivityRun._meta.db_table, Run._meta.db_table
    return RawSQL(
        f"SELECT (o.value)::bigint FROM {ars} ar JOIN {runs} r ON r.id = ar.run_id "
        "CROSS JOIN LATERAL jsonb_each_text(ar.outputs) o "
        "WHERE o.value IS NOT NULL AND (r.status <> ALL(%s) OR r.finished_at >= %s)",
        [list(FINAL_RUN), cutoff],
    )


def purge_populations(force: bool = False) -> int:
    """Drop the populations older than the retention that no run still going (or finished
    within the retention) holds, and that are not kept (snapshots). Returns how many."""
    now = time.monotonic()
    last = _last_purge["at"]
    if not force and last is not None and now - last < PURGE_EVERY_SECONDS:
        return 0
    _last_purge["at"] = now
    cutoff = timezone.now() - timedelta(days=settings.POPULATION_RETENTION_DAYS)
    return populations.purge(older_than=cutoff, protected=protected_populations(cutoff))


def tick() -> dict:
    return {
        "orphans": recover_orphans(),
        "due": requeue_due(),
        "launched": launch_scheduled(),
        "reminded": remind_tasks(),  # approvers reminded once before a task expires
        "expired": expire_tasks(),  # human tasks past due_at (their activity takes on_expiry)
        "imports": imports.reconcile(),
        "purged": purge_populations(),
        "deliveries": deliveries_tick(),  # design 10: validity windows, dead send jobs
    }
