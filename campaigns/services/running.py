"""Running a campaign: test runs, publication, launches, pause, resume, stop, close, archive,
trigger. See ``campaigns.services``; which action applies when is ``campaigns.lifecycle``.

Lifecycle (design 5.4, 6, 9): draft -> (test runs) -> publish -> live | scheduled -> paused <->
live; live -> completed (a one-off's run ended) | closed (recurring/signal: no new runs) |
stopped; draft and finished states -> archived. A published campaign changes through a revision
(``editing.revise``): publishing it numbers the next version, which later launches use; runs in
flight keep their version.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns import definitions, graph, lifecycle, policies
from campaigns import variables as campaign_variables
from campaigns.engine import jobs, progress
from campaigns.models import Campaign, CampaignStatus, Run, RunStatus, Version
from campaigns.services import approvals, launching
from campaigns.services.editing import locked
from campaigns.versions import latest_version
from config.access import real_user
from config.audit import log_change
from config.errors import Conflict, TooSoon, ValidationFailed

C = CampaignStatus
ACTIVE_RUNS = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING)


def _valid_definition(campaign):
    definition = definitions.export(campaign)
    errors = graph.validate(definition)
    if errors:
        raise ValidationFailed(errors, document=definition)
    return definition


def start_run(
    *, campaign, version, user, variables=None, test=False, source="", started_at=None
) -> Run:
    """A new run bound to ``version``; its entry activities are enqueued on commit.
    ``started_at`` (a scheduled launch's time) is the run's evaluation time for rules."""
    values = campaign_variables.resolve(version.definition["variables"], variables)
    run = Run.objects.create(
        campaign=campaign,
        version=version,
        test=test,
        variables=values,
        started_by=real_user(user),
        trigger=source,
        started_at=started_at,
    )
    jobs.enqueue_due(progress.start(run))
    return run


@transaction.atomic
def test_run(*, campaign, user, variables=None) -> Run:
    """A test run of the current draft (or open revision), bound to an unnumbered snapshot."""
    campaign = locked(campaign)
    lifecycle.check("test_run", campaign, user)
    definition = _valid_definition(campaign)
    version = Version.objects.create(
        campaign=campaign, definition=definition, created_by=real_user(user)
    )
    run = start_run(
        campaign=campaign, version=version, variables=variables, test=True, user=user, source="test"
    )
    log_change(
        user=user, obj=campaign, action="change", event="test_run",
        message=f"Test run {run.pk} started.", details={"run": run.pk, "variables": run.variables},
    )  # fmt: skip
    return run


def _number(campaign, definition, user):
    number = (campaign.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return Version.objects.create(
        campaign=campaign, number=number, definition=definition, created_by=real_user(user)
    )


def _go_live(campaign, version, user):
    """The first publication: scheduled until its first launch (the tick starts it), or live
    at once (asap, a one-off whose time passed: run now; signal: wait for triggers)."""
    now = timezone.now()
    campaign.published_at = now
    schedule = version.definition["schedule"]
    launch = launching.first_launch(schedule, now=now, anchor=now)
    if launch is not None:
        campaign.status, campaign.next_launch_at = C.SCHEDULED, launch
        return
    campaign.status = C.LIVE
    if schedule["frequency"] in ("asap", "once"):
        run = start_run(campaign=campaign, version=version, user=user, source="publish")
        launching.record_immediate(campaign, run, now)


def _close_revision(campaign, version):
    """Publishing a revision: the schedule continues with the new version."""
    campaign.revision_opened_at, campaign.revision_opened_by = None, None
    if campaign.status in (C.SCHEDULED, C.LIVE) and campaign.next_launch_at is not None:
        campaign.next_launch_at = launching.first_launch(
            version.definition["schedule"], now=timezone.now(), anchor=campaign.published_at
        )


@transaction.atomic
def publish(*, campaign, user) -> Campaign:
    """Publish a valid draft (or open revision): number a new version and start its schedule;
    or, when approval policies apply (``campaigns.policies``), send it for approval
    (``approvals.request``): a draft then waits in ``pending_approval`` until every policy's
    task is approved, which publishes it (``publish_definition``)."""
    campaign = locked(campaign)
    lifecycle.check("publish", campaign, user)
    definition = _valid_definition(campaign)
    open_tasks = list(approvals.waiting(campaign).values_list("pk", flat=True))
    if open_tasks:
        raise Conflict(f"this campaign already waits for approval (tasks {open_tasks})")
    needed = policies.applicable(campaign, definition)
    if needed:
        approvals.request(campaign=campaign, definition=definition, needed=needed, user=user)
        return campaign
    publish_definition(campaign=campaign, user=user)
    return campaign


def publish_definition(*, campaign, user, requested_by=None, message="") -> Version:
    """Number the current (valid) definition of the locked ``campaign`` as its next version and
    start its schedule, or move the live schedule to it (a revision). ``requested_by`` (the
    version's author) defaults to ``user``; ``message`` is added to the audit entry."""
    definition = _valid_definition(campaign)
    before = campaign.status
    version = _number(campaign, definition, requested_by or user)
    if campaign.status in (C.DRAFT, C.PENDING_APPROVAL):
        _go_live(campaign, version, requested_by or user)
    else:
        _close_revision(campaign, version)
    campaign.status_note = ""
    campaign.save()
    text = f"Published version {version.number}" + (f" ({message})." if message else ".")
    log_change(
        user=user, obj=campaign, action="change", event="publish", message=text,
        before={"status": before}, after={"status": campaign.status, "version": version.number},
    )  # fmt: skip
    return version


def _moved(campaign, user, event, message, before):
    log_change(
        user=user, obj=campaign, action="change", event=event, message=message,
        before={"status": before}, after={"status": campaign.status},
    )  # fmt: skip


def _runs(campaign, statuses):
    return Run.objects.select_for_update().filter(campaign=campaign, status__in=statuses)


@transaction.atomic
def pause(*, campaign, user) -> Campaign:
    campaign = locked(campaign)
    lifecycle.check("pause", campaign, user)
    before = campaign.status
    campaign.status = C.PAUSED
    campaign.save(update_fields=["status"])
    _runs(campaign, ACTIVE_RUNS).filter(test=False).update(status=RunStatus.PAUSED)
    _moved(campaign, user, "pause", "Paused.", before)
    return campaign


@transaction.atomic
def resume(*, campaign, user) -> Campaign:
    campaign = locked(campaign)
    lifecycle.check("resume", campaign, user)
    before = campaign.status
    future = campaign.next_launch_at and campaign.next_launch_at > timezone.now()
    launched_before = campaign.launches.exists() or campaign.runs.filter(test=False).exists()
    campaign.status = C.SCHEDULED if future and not launched_before else C.LIVE
    campaign.save(update_fields=["status"])
    for run in _runs(campaign, (RunStatus.PAUSED,)):
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status"])
        jobs.enqueue_due(progress.resumable(run))
    _moved(campaign, user, "resume", "Resumed.", before)
    return campaign


@transaction.atomic
def stop(*, campaign, user) -> Campaign:
    campaign = locked(campaign)
    lifecycle.check("stop", campaign, user)
    before = campaign.status
    approvals.withdraw(campaign, user, "the campaign was stopped")
    campaign.status, campaign.next_launch_at = C.STOPPED, None
    campaign.save(update_fields=["status", "next_launch_at"])
    for run in _runs(campaign, (*ACTIVE_RUNS, RunStatus.PAUSED)):
        progress.stop(run)
    _moved(campaign, user, "stop", "Stopped.", before)
    return campaign


@transaction.atomic
def stop_run(*, run, user) -> Run:
    run = Run.objects.select_for_update().get(pk=run.pk)
    lifecycle.check("stop_run", run, user)
    progress.stop(run)
    log_change(
        user=user, obj=run.campaign, action="change", event="stop_run",
        message=f"Run {run.pk} stopped.", details={"run": run.pk},
    )  # fmt: skip
    return run


@transaction.atomic
def close(*, campaign, user) -> Campaign:
    campaign = locked(campaign)
    lifecycle.check("close", campaign, user)
    before = campaign.status
    campaign.status, campaign.next_launch_at = C.CLOSED, None
    campaign.save(update_fields=["status", "next_launch_at"])
    _moved(campaign, user, "close", "Closed: no new runs.", before)
    return campaign


@transaction.atomic
def archive(*, campaign, user) -> Campaign:
    campaign = locked(campaign)
    lifecycle.check("archive", campaign, user)
    before = campaign.status
    if campaign.runs.filter(status__in=(*ACTIVE_RUNS, RunStatus.PAUSED)).exists():
        raise Conflict("cannot archive a campaign with runs still going")
    campaign.status = C.ARCHIVED
    campaign.save(update_fields=["status"])
    _moved(campaign, user, "archive", "Archived.", before)
    return campaign


@transaction.atomic
def trigger(*, campaign, user, variables=None, source="trigger") -> Run:
    """A new run of a live ``signal`` campaign; ``TooSoon`` when the last one is too recent."""
    campaign = locked(campaign)
    lifecycle.check("trigger", campaign, user)
    now = timezone.now()
    interval = timedelta(seconds=settings.TRIGGER_MIN_INTERVAL_SECONDS)
    if campaign.last_triggered_at and now - campaign.last_triggered_at < interval:
        wait = (campaign.last_triggered_at + interval - now).total_seconds()
        raise TooSoon(f"triggered less than {interval.total_seconds():.0f} s ago", wait=wait + 1)
    campaign.last_triggered_at = now
    campaign.save(update_fields=["last_triggered_at"])
    run = start_run(
        campaign=campaign,
        version=latest_version(campaign),
        variables=variables,
        user=user,
        source=source,
    )
    log_change(
        user=user, obj=campaign, action="change", event="trigger",
        message=f"Triggered run {run.pk}.", details={"run": run.pk, "variables": run.variables},
    )  # fmt: skip
    return run
