"""Approval policies (issue 14): which ones ask for sign-off of a definition being published.

``applicable(campaign, definition) -> [(policy, reason)]``: every active ``ApprovalPolicy``
whose condition holds, with a sentence saying why. The conditions (one function each, in
``CONDITIONS``):

- ``always``;
- ``marketing_channel``: an activity of a channel kind (``group == "channels"``) whose
  ``category`` is ``marketing`` (a kind without the option counts as marketing);
- ``audience_over``: a transition count above ``threshold`` in the latest successful test run
  of this very definition (same ``campaigns.diffs.content_hash``) run with the variables its
  launches use (the declared defaults). A test run with other variables does not count. With
  no such test run the size is unknown, and the policy applies (the reason says so);
- ``content_changed``: the content of the channel activities (their type and options,
  ``category`` included) differs from the last approved version's (or nothing was approved
  yet and there is some content).

``latest_test_run(campaign, definition, variables=None)`` is that test run (any variables when
``variables`` is None), for the policies and for what an approver sees.
"""

from campaigns import diffs
from campaigns import variables as campaign_variables
from campaigns.activities import registry
from campaigns.models import ApprovalPolicy, Run, RunStatus
from campaigns.versions import last_approved

RECENT_TEST_RUNS = 50  # test runs looked at, newest first


def _kind(activity):
    try:
        return registry.get(activity.get("type"))
    except KeyError:
        return None


def channel_activities(definition: dict) -> list[dict]:
    """The activities of channel kinds (email, SMS, push...), in definition order."""
    return [
        a
        for a in (definition or {}).get("activities", [])
        if (kind := _kind(a)) is not None and kind.group == "channels"
    ]


def channel_content(definition: dict | None) -> dict:
    return {
        a["id"]: {k: v for k, v in a.items() if k not in ("id", *diffs.IGNORED)}
        for a in channel_activities(definition or {})
    }


def launch_variables(definition: dict) -> dict:
    return campaign_variables.resolve(definition.get("variables") or [], None)


def _finished_with(run, variables):
    return run.status == RunStatus.SUCCEEDED and run.variables == variables


def latest_test_run(campaign, definition: dict, variables: dict | None = None) -> Run | None:
    wanted = diffs.content_hash(definition)
    runs = (
        Run.objects.filter(campaign=campaign, test=True)
        .select_related("version")
        .order_by("-created_at", "-id")[:RECENT_TEST_RUNS]
    )
    for run in runs:
        if variables is not None and not _finished_with(run, variables):
            continue
        if diffs.content_hash(run.version.definition) == wanted:
            return run
    return None


def _always(policy, campaign, definition):
    return "every publication needs approval"


def _marketing_channel(policy, campaign, definition):
    for activity in channel_activities(definition):
        if activity.get("category", "marketing") == "marketing":
            return f"activity {activity['id']} sends marketing {activity['type']}"
    return ""


def _largest_count(run):
    from campaigns import reads

    counted = [(count, key) for key, count in reads.counts(run).items() if count is not None]
    return max(counted, key=lambda found: found[0], default=(None, (None, None)))  # the first


def _audience_over(policy, campaign, definition):
    threshold = policy.threshold or 0
    run = latest_test_run(campaign, definition, launch_variables(definition))
    if run is None:
        return (
            "no successful test run of this definition with its launch variables: "
            f"the audience size (limit {threshold:,}) is unknown"
        )
    count, (source, port) = _largest_count(run)
    if count is not None and count > threshold:
        return f"test run {run.pk} counted {count:,} on {source}.{port}, above {threshold:,}"
    return ""


def _content_changed(policy, campaign, definition):
    approved = last_approved(campaign)
    before = channel_content(approved.definition if approved else None)
    after = channel_content(definition)
    if before == after:
        return ""
    changed = sorted(set(before) ^ set(after) | {k for k in before if after.get(k) != before[k]})
    where = f"since version {approved.number}" if approved else "and was never approved"
    return f"the content of {', '.join(changed)} changed {where}"


CONDITIONS = {
    "always": _always,
    "marketing_channel": _marketing_channel,
    "audience_over": _audience_over,
    "content_changed": _content_changed,
}


def applicable(campaign, definition: dict) -> list[tuple[ApprovalPolicy, str]]:
    found = []
    for policy in ApprovalPolicy.objects.filter(active=True).select_related("group"):
        reason = CONDITIONS[policy.condition](policy, campaign, definition)
        if reason:
            found.append((policy, reason))
    return found
