"""How a run moves (design 7): readiness, skips, joins, completion, stop, pause and resume.

Every function here runs inside the caller's transaction with the ``Run`` row locked
(``select_for_update``), the activity runs read after it (``ActivityRuns``), so two branches
finishing at once never both miss a join. ``advance`` returns the activity runs it made
ready; the caller claims one of them for itself and saves and enqueues the others (``jobs``).

An activity run is *ready* when ``status == pending`` and ``due_at`` is set; ``due_at`` is null
while its inputs are still coming.
"""

from collections import OrderedDict

from django.db.models import Count
from django.utils import timezone

from campaigns.graph import Graph
from campaigns.models import (
    FINAL_ACTIVITY,
    OPEN_TASK,
    ActivityRun,
    ActivityRunStatus,
    HumanTask,
    HumanTaskStatus,
    Run,
    RunStatus,
)

S = ActivityRunStatus
GRAPHS_KEPT = 256
_graphs = OrderedDict()


def graph_of(run: Run) -> Graph:
    """The graph of the run's immutable version, cached per version: the last GRAPHS_KEPT used
    (an engine worker lives long, and every test run has a version of its own)."""
    graph = _graphs.get(run.version_id)
    if graph is None:
        graph = _graphs[run.version_id] = Graph(run.version.definition)
        while len(_graphs) > GRAPHS_KEPT:
            _graphs.popitem(last=False)
    else:
        _graphs.move_to_end(run.version_id)
    return graph


class ActivityRuns:
    """The activity runs of one run by key (``ars[key]``, ``ars.get(key)``), each row read when
    first needed: ``keys`` in one query, others one query each, so a step reads the same few rows
    in a 10- or a 1,000-activity campaign. Read with the run row locked, they are current for
    everything ``decide`` looks at: only transactions holding that lock make an activity run
    final or ready (claims turn pending or waiting into running; the reconciler running into
    pending: open either way).

    ``statuses()`` counts the statuses of all the run's activity runs in PostgreSQL, ``{status:
    n}``, once: call it after the last change that makes one final (claims after it do not
    matter: pending and running count alike). Only transactions holding the run row make an
    activity run final, so "all final" is exact; a claim may turn waiting into running meanwhile.
    """

    def __init__(self, run, *, keys=()):
        self.run, self.rows, self._counts = run, {}, None
        self.preload(keys)

    def _query(self):
        return ActivityRun.objects.filter(run_id=self.run.pk)

    def preload(self, keys) -> None:
        missing = [key for key in keys if key not in self.rows]
        if missing:
            self.rows.update((ar.key, ar) for ar in self._query().filter(key__in=missing))

    def __getitem__(self, key):
        if key not in self.rows:
            self.preload([key])
        return self.rows[key]

    def get(self, key: str, default=None) -> ActivityRun | None:
        try:
            return self[key]
        except KeyError:
            return default

    def statuses(self) -> dict[str, int]:
        if self._counts is None:
            query = ActivityRun.objects.filter(run_id=self.run.pk).values("status")
            self._counts = dict(query.annotate(n=Count("id")).values_list("status", "n"))
        return self._counts


def around(graph: Graph, key: str) -> set[str]:
    """The keys whose rows decide what follows ``key``: itself, its successors and their inputs."""
    keys = {key}
    for t in graph.outbound[key]:
        keys.add(t["to"])
        keys.update(s["from"] for s in graph.inbound[t["to"]])
    return keys


def inbound_state(transition: dict, ars) -> str:
    """``arrived``, ``dead`` (skipped, failed, cancelled, or the port carried nothing) or ``open``."""
    source = ars[transition["from"]]
    if source.status == S.SUCCEEDED and source.outputs.get(transition["port"]) is not None:
        return "arrived"
    if source.status in FINAL_ACTIVITY:
        return "dead"
    return "open"


def decide(graph: Graph, key: str, ars) -> str | None:
    """``ready``, ``skip`` or None (still waiting for an input)."""
    states = [(t, inbound_state(t, ars)) for t in graph.inbound[key]]
    if any(state == "open" for _, state in states):
        return None
    if not any(state == "arrived" for _, state in states):
        return "skip"
    primary = graph.activities[key].get("primary") if graph.kind(key).multi_input else None
    if primary and not any(t["from"] == primary and s == "arrived" for t, s in states):
        return "skip"
    return "ready"


def advance(run: Run, graph: Graph, ars, keys, now=None) -> list[ActivityRun]:
    """Make ready or skip the successors of ``keys`` (recursively for skips, saved); return the
    activity runs that became ready, their ``due_at`` set in memory only: the caller saves each,
    by claiming it (``claims.claim_next``) or with ``mark_due``."""
    now = now or timezone.now()
    due, todo = [], [t["to"] for key in keys for t in graph.outbound[key]]
    while todo:
        ar = ars[todo.pop(0)]
        if ar.status != S.PENDING or ar.due_at is not None:
            continue
        verdict = decide(graph, ar.key, ars)
        if verdict == "ready":
            ar.due_at = now
            due.append(ar)
        elif verdict == "skip":
            ar.status, ar.finished_at = S.SKIPPED, now
            ar.save(update_fields=["status", "finished_at"])
            todo += [t["to"] for t in graph.outbound[ar.key]]
    return due


def mark_due(ready: list[ActivityRun]) -> None:
    """Save the due time ``advance`` gave these activity runs (one statement)."""
    if ready:
        ActivityRun.objects.filter(pk__in=[ar.pk for ar in ready]).update(due_at=ready[0].due_at)


def settle(run: Run, ars) -> None:
    """Set the run's status from its activity runs: succeeded when all are final."""
    if run.status not in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING):
        return
    if isinstance(ars, ActivityRuns):
        statuses = set(ars.statuses())
    else:
        statuses = {ar.status for ar in ars.values()}
    before = run.status
    if statuses <= FINAL_ACTIVITY:
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        _complete_campaign(run)
    elif statuses - FINAL_ACTIVITY == {S.WAITING}:
        run.status = RunStatus.WAITING
    else:
        run.status = RunStatus.RUNNING
    if run.status != before:
        run.save(update_fields=["status", "finished_at"])


def _complete_campaign(run):
    """A one-off campaign is completed when its live run ends."""
    from campaigns.models import Campaign, CampaignStatus

    if not run.test and run.version.definition["schedule"].get("frequency") in ("asap", "once"):
        Campaign.objects.filter(pk=run.campaign_id, status=CampaignStatus.LIVE).update(
            status=CampaignStatus.COMPLETED
        )


def start(run: Run) -> list[int]:
    """Create the activity runs of a new run; entry activities are due now. Returns due ids."""
    graph = graph_of(run)
    now = timezone.now()
    ActivityRun.objects.bulk_create(
        ActivityRun(
            run=run,
            key=key,
            type=item["type"],
            due_at=None if graph.inbound[key] else now,
        )
        for key, item in graph.activities.items()
    )
    run.status, run.started_at = RunStatus.RUNNING, run.started_at or now
    run.save(update_fields=["status", "started_at"])
    return list(run.activity_runs.filter(due_at__isnull=False).values_list("pk", flat=True))


def cancel_open(run: Run, now=None) -> None:
    """Pending and waiting activity runs become cancelled; open tasks too."""
    now = now or timezone.now()
    run.activity_runs.filter(status__in=(S.PENDING, S.WAITING)).update(
        status=S.CANCELLED, finished_at=now
    )
    HumanTask.objects.filter(run=run, status__in=OPEN_TASK).update(status=HumanTaskStatus.CANCELLED)


def stop(run: Run, *, status: str = RunStatus.STOPPED, error: str = "") -> None:
    now = timezone.now()
    cancel_open(run, now)
    run.status, run.finished_at, run.error = status, now, error or run.error
    run.save(update_fields=["status", "finished_at", "error"])


def resumable(run: Run) -> list[tuple[int, object]]:
    """Ids of the activity runs to wake after a resume (or a lost Redis)."""
    return list(
        run.activity_runs.filter(
            status__in=(S.PENDING, S.WAITING), due_at__isnull=False
        ).values_list("pk", "due_at")
    )
