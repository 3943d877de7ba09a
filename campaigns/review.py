"""What an approver sees before deciding a task (issue 14), for the admin's task page and
``tasks/{id}/`` alike: ``review(task, user) -> dict`` with

- ``requested_by``, ``requested_at``: who asked (the publisher, or the run's starter) and when;
- ``reason``: why the task exists (the policy's reason, the approval activity's message);
- ``approvals``: ``[{"user", "at", "comment"}]`` so far, of ``approvals_needed``;
- ``graph``: the definition under review with the counts of a run (``graph_data``): for a
  publication, the latest test run of this very definition (else the latest test run); for an
  approval activity or a send confirmation, the run waiting on it;
- ``samples``: the content for a few recipients of each channel activity (``campaigns.samples``);
- ``diff``: the readable changes (``campaigns.diffs.changes``) and the RFC 6902 patch against
  the last approved version (else the last published one; ``against`` is then null for a first
  publication: everything is new).

``graph_data(definition, run)``: ``{"activities": [{"id", "type", "label", "position"}],
"transitions": [{"from", "port", "to", "count", "state"}], "run", "run_test"}``; ``state`` is
``carried`` (``count`` records took it in the run), ``nothing`` (it carried nothing) or
``pending`` (the run did not compute it: not finished, or an earlier definition without it).
"""

from campaigns import diffs, reads, samples, task_kinds
from campaigns.versions import last_approved, latest_version


def graph_data(definition: dict, run) -> dict:
    counts = reads.counts(run) if run is not None else {}
    transitions = []
    for t in definition.get("transitions", []):
        port = t.get("port", "out")
        key = (t["from"], port)
        if key not in counts:
            state, count = "pending", None
        else:
            count = counts[key]
            state = "nothing" if count is None else "carried"
        transitions.append({"from": t["from"], "port": port, "to": t["to"], "count": count,
                            "state": state})  # fmt: skip
    activities = [
        {
            "id": a["id"],
            "type": a["type"],
            "label": a.get("label", ""),
            "position": a.get("position"),
        }
        for a in definition.get("activities", [])
    ]
    return {
        "activities": activities,
        "transitions": transitions,
        "run": run.pk if run is not None else None,
        "run_test": run.test if run is not None else None,
    }


def baseline(campaign, version):
    """The version a definition is compared with, and words saying which one it is."""
    if campaign is None:
        return None, "nothing to compare with"
    before = version.number if version is not None and version.number else None
    approved = last_approved(campaign, before=before)
    if approved is not None:
        return approved, f"version {approved.number} (the last approved)"
    published = latest_version(campaign)
    if published is not None and (before is None or published.number < before):
        return published, f"version {published.number} (the last published; none approved yet)"
    return None, "no earlier version: everything is new"


def diff_data(definition, campaign, version) -> dict:
    against, words = baseline(campaign, version)
    before = against.definition if against is not None else None
    return {
        "against": against.number if against is not None else None,
        "against_label": words,
        "changes": [c.as_dict() for c in diffs.changes(before, definition)],
        "patch": diffs.patch(before, definition),
    }


def _requester(task):
    if task.requested_by_id:
        return task.requested_by.get_username()
    if task.run_id and task.run.started_by_id:
        return task.run.started_by.get_username()
    return "the system"


def review(task, user) -> dict:
    definition, run, campaign, version = task_kinds.get(task.kind).subject(task)
    found = {
        "requested_by": _requester(task),
        "requested_at": task.created_at,
        "reason": task.reason or task.message,
        "approvals_needed": task.approvals_needed,
        "approvals": [
            {
                "user": a.user.get_username() if a.user else "the system",
                "at": a.approved_at,
                "comment": a.comment,
            }
            for a in task.approvals.select_related("user")
        ],  # fmt: skip
        "graph": None,
        "samples": [],
        "diff": None,
    }
    if definition is not None:
        found["graph"] = graph_data(definition, run)
        found["samples"] = samples.for_definition(definition, run, user)
        found["diff"] = diff_data(definition, campaign, version)
    return found
