"""The reconciler: one periodic tick over PostgreSQL state (``manage.py campaigns_tick``).

``tick() -> dict`` of counts:
- ``due``: pending or waiting activity runs of active runs whose due time passed more than
  ``RECONCILE_AFTER_SECONDS`` ago are enqueued again (their wake-up job was lost, e.g. with Redis)
  and their due time moved to now, so each is re-sent at most once per that interval;
- ``orphans``: running activity runs claimed more than ``RECONCILE_AFTER_SECONDS`` ago whose proof of
  life is free (the worker died) go back to pending, due now, and are enqueued;
- ``launched``: scheduled campaigns whose ``next_launch_at`` passed start their run.
Jobs being idempotent, a duplicate wake-up costs one cheap query.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audiences import imports
from campaigns.engine import jobs
from campaigns.engine.claim import ACTIVE_RUN, ProofOfLife
from campaigns.models import ActivityRun, ActivityRunStatus
from campaigns.services.tasks import expire_due as expire_tasks

S = ActivityRunStatus


def _stale():
    return timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)


def requeue_due():
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


def recover_orphans():
    candidates = ActivityRun.objects.filter(status=S.RUNNING, claimed_at__lte=_stale()).values_list(
        "pk", flat=True
    )
    recovered = 0
    for pk in candidates:
        with ProofOfLife(pk) as proof:
            if not proof.held:
                continue
            with transaction.atomic():
                count = ActivityRun.objects.filter(pk=pk, status=S.RUNNING).update(
                    status=S.PENDING, due_at=timezone.now(), claimed_by=""
                )
        if count:
            recovered += 1
            jobs.enqueue_now([pk])
    return recovered


def launch_scheduled():
    from campaigns import services

    return services.launch_due()


def tick():
    return {
        "orphans": recover_orphans(),
        "due": requeue_due(),
        "launched": launch_scheduled(),
        "expired": expire_tasks(),  # human tasks past due_at (their activity takes on_expiry)
        "imports": imports.reconcile(),
    }
