"""The lifecycle table (design 9): for each action, the object it acts on, the states where it
applies, the permission it needs and the service that does it. Nothing else decides this: the
services call ``check`` (so the admin, the API and commands behave the same), the admin shows the
buttons ``available`` returns, the API answers 403 / 409 with the messages of ``check``.

``check(name, obj, user)`` raises ``Forbidden`` (403, naming the permission) when ``user`` lacks
the action's permission, else ``Conflict`` (409, naming the state) when the action does not apply
to ``obj`` in its state. The permission is checked first: a user who may not act learns nothing
about the state. ``available(obj, user) -> [Action]`` lists what ``user`` may do to ``obj`` now.

States are the object's ``status``; campaign actions may also need the draft graph to be
``editable`` (a draft, or a published campaign with a revision open, design 9: the live schedule
keeps using the last published version while the revision is edited) or not. Later issues add
their actions (policies...) as rows here, each with its codename.
"""

from dataclasses import dataclass

from campaigns.models import CampaignStatus as C
from campaigns.models import HumanTaskStatus as T
from campaigns.models import RunStatus as R
from config.access import require
from config.errors import Conflict

PUBLISHED = (C.SCHEDULED, C.LIVE, C.PAUSED)
EDITABLE = (C.DRAFT, C.PENDING_APPROVAL)


@dataclass(frozen=True)
class Action:
    name: str
    label: str  # the button
    doing: str  # the first words of a refusal: "Publishing needs ..."
    subject: str  # campaign | run | task
    states: tuple
    permission: str
    service: str  # dotted path of the service function
    editable: bool | None = None  # campaigns: needs an editable draft graph (True), or none (False)
    help: str = ""

    def applies(self, obj) -> bool:
        if obj.status not in self.states:
            return False
        if self.editable is not None and editable(obj) != self.editable:
            return False
        return _condition_holds(self, obj)


def editable(campaign) -> bool:
    """A draft (waiting for approval or not), or a published campaign with a revision open.
    Changing a definition that waits for approval voids the request (``approvals``)."""
    return campaign.status in EDITABLE or campaign.revision_opened_at is not None


def task_action(task) -> str:
    """The row that decides ``task``: its kind's ``decide_action`` (``campaigns.task_kinds``),
    ``confirm_send`` for a send confirmation, ``decide_task`` otherwise."""
    from campaigns import task_kinds

    return task_kinds.get(task.kind).decide_action


def _condition_holds(action, obj):
    if action.name in ("decide_task", "confirm_send"):
        return task_action(obj) == action.name
    if action.name == "trigger":
        from campaigns.versions import live_schedule

        return live_schedule(obj).get("frequency") == "signal"
    return True


def _row(name, label, doing, subject, states, permission, service, editable=None, help=""):
    return Action(name, label, doing, subject, tuple(states), permission, service, editable, help)


EVERY_STATE = tuple(C.values)
RUN_GOING = (R.PENDING, R.RUNNING, R.WAITING, R.PAUSED)
# name, button, refusal words, subject, states, permission, service, editable, help
TABLE = [
    _row("edit", "Edit", "Editing", "campaign", (*EDITABLE, *PUBLISHED),
         "campaigns.change_campaign", "campaigns.services.replace_definition", True,
         "Change the definition (a draft, or an open revision); a change voids a pending "
         "approval."),
    _row("test_run", "Test run", "Test-running", "campaign", (*EDITABLE, *PUBLISHED),
         "campaigns.test_run_campaign", "campaigns.services.test_run", None,
         "Compute every count of the current definition; nothing is sent."),
    _row("publish", "Publish", "Publishing", "campaign", (C.DRAFT, *PUBLISHED),
         "campaigns.publish_campaign", "campaigns.services.publish", True,
         "Number a new version and start (or keep) its schedule; when an approval policy "
         "applies, send it for approval first."),
    _row("revise", "Revise", "Revising", "campaign", PUBLISHED,
         "campaigns.change_campaign", "campaigns.services.revise", False,
         "Open a revision; launches keep the last published version until it is published."),
    _row("discard_revision", "Discard revision", "Discarding a revision", "campaign", PUBLISHED,
         "campaigns.change_campaign", "campaigns.services.discard_revision", True,
         "Drop the open revision's changes."),
    _row("pause", "Pause", "Pausing", "campaign", (C.LIVE, C.SCHEDULED),
         "campaigns.operate_campaign", "campaigns.services.pause", None,
         "Hold the runs and the schedule."),
    _row("resume", "Resume", "Resuming", "campaign", (C.PAUSED,),
         "campaigns.operate_campaign", "campaigns.services.resume", None,
         "Continue the runs and the schedule."),
    _row("stop", "Stop", "Stopping", "campaign", (*PUBLISHED, C.PENDING_APPROVAL),
         "campaigns.operate_campaign", "campaigns.services.stop", None,
         "End the campaign and every run still going."),
    _row("close", "Close", "Closing", "campaign", PUBLISHED,
         "campaigns.operate_campaign", "campaigns.services.close", None,
         "Start no new runs; runs still going finish."),
    _row("duplicate", "Duplicate", "Duplicating", "campaign", EVERY_STATE,
         "campaigns.add_campaign", "campaigns.services.duplicate", None,
         "A new draft with the same definition."),
    _row("archive", "Archive", "Archiving", "campaign", (C.DRAFT, C.COMPLETED, C.CLOSED, C.STOPPED),
         "campaigns.archive_campaign", "campaigns.services.archive", None,
         "Put a finished campaign away."),
    _row("trigger", "Trigger", "Triggering", "campaign", (C.LIVE,),
         "campaigns.trigger_campaign", "campaigns.services.trigger", None,
         "Start a run of a live signal campaign."),
    _row("stop_run", "Stop run", "Stopping a run", "run", RUN_GOING,
         "campaigns.operate_campaign", "campaigns.services.stop_run", None,
         "End this run; what is pending is cancelled."),
    _row("decide_task", "Decide", "Deciding a task", "task", (T.NEW, T.ASSIGNED),
         "campaigns.decide_task", "campaigns.services.decide_task", None,
         "Approve or reject a task of one of your groups (approval activities and "
         "publication approvals)."),
    _row("assign_task", "Assign", "Assigning a task", "task", (T.NEW, T.ASSIGNED),
         "campaigns.assign_task", "campaigns.services.assign_task", None,
         "Give a task of one of your groups to one of its members (or take it)."),
    _row("confirm_send", "Confirm send", "Confirming a send", "task", (T.NEW, T.ASSIGNED),
         "campaigns.confirm_send", "campaigns.services.decide_task", None,
         "Approve (send) or reject (cancel) a delivery waiting for its send confirmation."),
    _row("send_proof", "Send proof", "Sending a proof", "campaign", EVERY_STATE,
         "campaigns.send_proof", "campaigns.services.send_proof", None,
         "Render a channel activity for one record and send it to staff addresses."),
]  # fmt: skip
ACTIONS = {action.name: action for action in TABLE}


def _state_words(obj):
    words = str(obj.status).replace("_", " ")
    if getattr(obj, "revision_opened_at", None) is not None:
        words += " with a revision open"
    return words


VERBS = {
    "test_run": "test-run",
    "discard_revision": "discard the revision of",
    "stop_run": "stop",
    "decide_task": "decide",
    "assign_task": "assign",
    "confirm_send": "confirm",
    "send_proof": "send a proof of",
}


def _refusal(action, obj):
    noun = {"campaign": "a campaign", "run": "a run", "task": "a task"}[action.subject]
    verb = VERBS.get(action.name, action.label.lower())
    if obj.status in action.states and action.name == "trigger":
        return "only a live signal campaign can be triggered"
    if obj.status in action.states and action.name == "discard_revision":
        return f"{noun} that is {_state_words(obj)} has no revision to discard"
    if obj.status in action.states and action.editable:
        return f"cannot {verb} {noun} that is {_state_words(obj)}: revise it first"
    return f"cannot {verb} {noun} that is {_state_words(obj)}"


def check(name: str, obj, user) -> Action:
    """Refuse (Forbidden, then Conflict) unless ``user`` may do action ``name`` to ``obj`` now."""
    action = ACTIONS[name]
    require(user, action.permission, action.doing)
    if not action.applies(obj):
        raise Conflict(_refusal(action, obj))
    return action


def available(obj, user, subject="campaign") -> list[Action]:
    """The actions of ``subject`` that ``user`` may do to ``obj`` in its current state."""
    from config.access import allowed

    return [
        action
        for action in TABLE
        if action.subject == subject and action.applies(obj) and allowed(user, action.permission)
    ]
