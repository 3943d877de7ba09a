"""Campaign operations (keyword-only, each in a transaction, audited through ``log_change``).

Lifecycle (design 5.4, 6): draft -> (test runs) -> publish -> live | scheduled -> paused <-> live;
live -> completed (a one-off's run ended) | closed (recurring/signal: no new runs) | stopped;
any final or draft state -> archived. An action that does not apply raises ``Conflict`` (409).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns import definitions, graph
from campaigns import variables as campaign_variables
from campaigns.engine import jobs, progress
from campaigns.models import (
    OPEN_TASK,
    ActivityRunStatus,
    Campaign,
    CampaignStatus,
    HumanTaskStatus,
    Run,
    RunStatus,
    Version,
)
from config.audit import log_change
from config.errors import Conflict, Forbidden, TooSoon, ValidationFailed

C = CampaignStatus
ACTIVE_RUNS = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING)


def _require(campaign, allowed, action):
    if campaign.status not in allowed:
        raise Conflict(f"cannot {action} a campaign that is {campaign.status}")


def unique_name(name, exclude=None):
    """``name``, or ``name (copy)``, ``name (copy 2)``... when taken (design 5.0)."""
    taken = Campaign.objects.exclude(pk=getattr(exclude, "pk", None))
    candidate, n = name, 1
    while taken.filter(name=candidate).exists():
        candidate = f"{name} (copy)" if n == 1 else f"{name} (copy {n})"
        n += 1
    return candidate


@transaction.atomic
def create_from_definition(*, document, user=None):
    definition = definitions.parse(document)
    campaign = Campaign.objects.create(
        name=unique_name(definition["name"]), owner=user if getattr(user, "pk", None) else None
    )
    definitions.save(campaign=campaign, definition=definition)
    log_change(user=user, obj=campaign, action="add", message="Created from a definition.")
    return campaign


@transaction.atomic
def replace_definition(*, campaign, document, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.DRAFT,), "change the definition of")
    definition = definitions.parse(document)
    if definition["name"] != campaign.name:
        campaign.name = unique_name(definition["name"], exclude=campaign)
    definitions.save(campaign=campaign, definition=definition)
    log_change(user=user, obj=campaign, action="change", message="Definition replaced.")
    return campaign


def validation_errors(campaign):
    return graph.validate(definitions.export(campaign))


def _valid_definition(campaign):
    definition = definitions.export(campaign)
    errors = graph.validate(definition)
    if errors:
        raise ValidationFailed(errors)
    return definition


def start_run(*, campaign, version, variables=None, test=False, user=None, source=""):
    """A new run bound to ``version``; its entry activities are enqueued on commit."""
    values = campaign_variables.resolve(version.definition["variables"], variables)
    run = Run.objects.create(
        campaign=campaign,
        version=version,
        test=test,
        variables=values,
        started_by=user if getattr(user, "pk", None) else None,
        trigger=source,
    )
    jobs.enqueue_due(progress.start(run))
    return run


@transaction.atomic
def test_run(*, campaign, variables=None, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.DRAFT, C.SCHEDULED, C.LIVE, C.PAUSED), "test-run")
    definition = _valid_definition(campaign)
    version = Version.objects.create(campaign=campaign, definition=definition, created_by=_u(user))
    run = start_run(
        campaign=campaign, version=version, variables=variables, test=True, user=user, source="test"
    )
    log_change(user=user, obj=campaign, action="change", message=f"Test run {run.pk} started.")
    return run


def _u(user):
    return user if getattr(user, "pk", None) else None


def _first_launch(schedule):
    if schedule.get("frequency") != "once":
        return None
    at = datetime.fromisoformat(schedule["at"])
    if timezone.is_naive(at):
        from zoneinfo import ZoneInfo

        at = at.replace(tzinfo=ZoneInfo(schedule.get("timezone") or settings.TIME_ZONE))
    return at


@transaction.atomic
def publish(*, campaign, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.DRAFT,), "publish")
    definition = _valid_definition(campaign)
    number = (campaign.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = Version.objects.create(
        campaign=campaign, number=number, definition=definition, created_by=_u(user)
    )
    launch = _first_launch(definition["schedule"])
    if launch is not None and launch > timezone.now():
        campaign.status, campaign.next_launch_at = C.SCHEDULED, launch
    else:
        campaign.status = C.LIVE
        if definition["schedule"]["frequency"] != "signal":
            start_run(campaign=campaign, version=version, user=user, source="publish")
    campaign.save()
    log_change(user=user, obj=campaign, action="change", message=f"Published version {number}.")
    return campaign


def latest_version(campaign):
    return campaign.versions.filter(number__isnull=False).order_by("-number").first()


@transaction.atomic
def launch_due():
    """Start the run of every scheduled campaign whose launch time passed (the tick calls it)."""
    launched = 0
    due = Campaign.objects.select_for_update(skip_locked=True).filter(
        status=C.SCHEDULED, next_launch_at__lte=timezone.now()
    )
    for campaign in due:
        campaign.status, campaign.next_launch_at = C.LIVE, None
        campaign.save(update_fields=["status", "next_launch_at"])
        start_run(campaign=campaign, version=latest_version(campaign), source="schedule")
        launched += 1
    return launched


def _runs(campaign, statuses):
    return Run.objects.select_for_update().filter(campaign=campaign, status__in=statuses)


@transaction.atomic
def pause(*, campaign, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.LIVE, C.SCHEDULED), "pause")
    campaign.status = C.PAUSED
    campaign.save(update_fields=["status"])
    _runs(campaign, ACTIVE_RUNS).filter(test=False).update(status=RunStatus.PAUSED)
    log_change(user=user, obj=campaign, action="change", message="Paused.")
    return campaign


@transaction.atomic
def resume(*, campaign, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.PAUSED,), "resume")
    future = campaign.next_launch_at and campaign.next_launch_at > timezone.now()
    campaign.status = C.SCHEDULED if future else C.LIVE
    campaign.save(update_fields=["status"])
    for run in _runs(campaign, (RunStatus.PAUSED,)):
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status"])
        jobs.enqueue_due(progress.resumable(run))
    log_change(user=user, obj=campaign, action="change", message="Resumed.")
    return campaign


@transaction.atomic
def stop(*, campaign, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.LIVE, C.SCHEDULED, C.PAUSED, C.PENDING_APPROVAL), "stop")
    campaign.status, campaign.next_launch_at = C.STOPPED, None
    campaign.save(update_fields=["status", "next_launch_at"])
    for run in _runs(campaign, (*ACTIVE_RUNS, RunStatus.PAUSED)):
        progress.stop(run)
    log_change(user=user, obj=campaign, action="change", message="Stopped.")
    return campaign


@transaction.atomic
def stop_run(*, run, user=None):
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.status not in (*ACTIVE_RUNS, RunStatus.PAUSED):
        raise Conflict(f"cannot stop a run that is {run.status}")
    progress.stop(run)
    log_change(user=user, obj=run.campaign, action="change", message=f"Run {run.pk} stopped.")
    return run


@transaction.atomic
def close(*, campaign, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.LIVE, C.SCHEDULED, C.PAUSED), "close")
    campaign.status, campaign.next_launch_at = C.CLOSED, None
    campaign.save(update_fields=["status", "next_launch_at"])
    log_change(user=user, obj=campaign, action="change", message="Closed: no new runs.")
    return campaign


@transaction.atomic
def duplicate(*, campaign, user=None):
    document = definitions.export(campaign)
    return create_from_definition(document=document, user=user)


@transaction.atomic
def archive(*, campaign, user=None):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(campaign, (C.DRAFT, C.COMPLETED, C.CLOSED, C.STOPPED), "archive")
    if campaign.runs.filter(status__in=(*ACTIVE_RUNS, RunStatus.PAUSED)).exists():
        raise Conflict("cannot archive a campaign with runs still going")
    campaign.status = C.ARCHIVED
    campaign.save(update_fields=["status"])
    log_change(user=user, obj=campaign, action="change", message="Archived.")
    return campaign


@transaction.atomic
def trigger(*, campaign, variables=None, user=None, source="trigger"):
    """A new run of a live ``signal`` campaign; 429 when the last one is too recent."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != C.LIVE or campaign.schedule.get("frequency") != "signal":
        raise Conflict("only a live signal campaign can be triggered")
    now = timezone.now()
    interval = timedelta(seconds=settings.TRIGGER_MIN_INTERVAL_SECONDS)
    if campaign.last_triggered_at and now - campaign.last_triggered_at < interval:
        raise TooSoon(f"triggered less than {interval.total_seconds():.0f} s ago")
    campaign.last_triggered_at = now
    campaign.save(update_fields=["last_triggered_at"])
    run = start_run(
        campaign=campaign,
        version=latest_version(campaign),
        variables=variables,
        user=user,
        source=source,
    )
    log_change(user=user, obj=campaign, action="change", message=f"Triggered run {run.pk}.")
    return run


@transaction.atomic
def decide_task(*, task, user, decision, comment=""):
    """Approve or reject a human task (users in its group, or superusers); wakes its activity."""
    from campaigns.models import HumanTask

    task = HumanTask.objects.select_for_update().get(pk=task.pk)
    if task.status not in OPEN_TASK:
        raise Conflict(f"the task is {task.status}")
    in_group = task.group_id and user.groups.filter(pk=task.group_id).exists()
    if not (user.is_superuser or in_group):
        raise Forbidden(f"only members of {task.group} can decide this task")
    task.status, task.decision, task.comment = HumanTaskStatus.DONE, decision, comment
    task.decided_by, task.decided_at = user, timezone.now()
    task.save()
    ar = task.activity_run
    if ar is not None and ar.status == ActivityRunStatus.WAITING:
        ar.due_at = timezone.now()
        ar.save(update_fields=["due_at"])
        jobs.enqueue_due([ar.pk])
    log_change(user=user, obj=task, action="change", message=f"Task {decision}.")
    return task
