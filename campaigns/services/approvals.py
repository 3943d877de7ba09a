"""Publication approvals (issue 14): publishing under approval policies, with four eyes bound to
a version. Called by ``running.publish``, the editing services and the ``publication`` task
kind (``campaigns.task_kinds``); everything runs in the caller's transaction.

- ``request(*, campaign, definition, needed, user)``: a publish that policies ask sign-off for:
  one publication task per policy (``needed``: ``[(policy, reason)]``, ``campaigns.policies``)
  in the policy's group, all sharing one ``request`` id and bound to the definition's
  ``content_hash``; a draft waits in ``pending_approval`` (a revision stays open, the published
  version keeps launching); ``status_note`` says who must approve and why.
- ``definition_changed(campaign, user)``: after every change of the draft definition. When its
  hash (position and label left out) changed, ``user`` becomes the one who last changed it
  (``changed_by``: four eyes) and every open publication task bound to another hash is voided:
  cancelled, the campaign back to draft, ``status_note`` saying why. Returns that sentence.
- ``check_approver(task, user, assigning=False)``: ``Forbidden`` for the person who last changed
  the definition (four eyes), ``Conflict`` for a second approval by the same person.
- ``add_approval(task, user, comment) -> bool``: one approval; True once ``approvals_needed``
  distinct people approved.
- ``settle(task, user)``: a publication task is done. Rejected: the other tasks of the request
  are cancelled and the campaign returns to draft with the comment. Approved, and no task of
  the request still open: the campaign is published (``running.publish_definition``: the
  version is numbered, the schedule starts) and the request's tasks point at the version.
- ``expired(task)`` / ``withdraw(campaign, user, why)``: the request ends unanswered, or
  because the campaign stopped.
"""

import uuid

from django.utils import timezone

from audiences import durations
from campaigns import definitions, diffs
from campaigns.models import OPEN_TASK, Campaign, CampaignStatus, HumanTask, TaskApproval
from campaigns.services import tasks
from config.access import SYSTEM, is_system, real_user
from config.audit import log_change
from config.errors import Conflict, Forbidden

C = CampaignStatus
KIND = "publication"


def _name(user):
    return "the system" if is_system(user) or user is None else user.get_username()


def waiting(campaign):
    """The open publication tasks of ``campaign``."""
    return HumanTask.objects.filter(campaign=campaign, kind=KIND, status__in=OPEN_TASK)


def _due(policy):
    return timezone.now() + durations.parse(policy.expires_in) if policy.expires_in else None


def _title(campaign):
    if campaign.revision_opened_at is not None:
        return f"Publish the revision of {campaign.name}"[:200]
    return f"Publish {campaign.name}"[:200]


def _note(campaign, text, user, event, draft=True):
    """Set ``status_note`` (and, with ``draft``, a campaign waiting for approval back to draft)."""
    before = campaign.status
    if draft and campaign.status == C.PENDING_APPROVAL:
        campaign.status = C.DRAFT
    campaign.status_note = text
    campaign.save(update_fields=["status", "status_note"])
    log_change(
        user=user, obj=campaign, action="change", event=event, message=text,
        before={"status": before}, after={"status": campaign.status},
    )  # fmt: skip


def _approvals(n):
    return "1 approval" if n == 1 else f"{n} distinct approvals"


def request(*, campaign, definition, needed, user) -> list[HumanTask]:
    bound, request_id = diffs.content_hash(definition), uuid.uuid4()
    asked = []
    for policy, reason in needed:
        asked.append(
            tasks.create_task(
                user=user,
                kind=KIND,
                title=_title(campaign),
                group=policy.group,
                message=f"{_name(user)} asks to publish {campaign.name}. {policy.name}: {reason}.",
                due_at=_due(policy),
                campaign=campaign,
                policy=policy,
                reason=reason[:300],
                definition_hash=bound,
                approvals_needed=policy.approvals,
                requested_by=real_user(user),
                request=request_id,
            )  # fmt: skip
        )
    if campaign.status == C.DRAFT:
        campaign.status = C.PENDING_APPROVAL
    campaign.content_hash = bound
    campaign.save(update_fields=["status", "content_hash"])
    who = "; ".join(f"{p.group} ({_approvals(p.approvals)}; {p.name}: {r})" for p, r in needed)
    _note(campaign, f"Waiting for approval by {who}.", user, "publication_requested", draft=False)
    return asked


def _approvers(queryset):
    names = TaskApproval.objects.filter(task__in=queryset).values_list("user__username", flat=True)
    return sorted({name or "the system" for name in names})


def definition_changed(campaign, user) -> str | None:
    current = diffs.content_hash(definitions.export(campaign))
    if current == campaign.content_hash:
        return None  # nothing but positions and labels: nothing to void
    campaign.content_hash, campaign.changed_at = current, timezone.now()
    campaign.changed_by = real_user(user)
    campaign.save(update_fields=["content_hash", "changed_at", "changed_by"])
    stale = waiting(campaign).exclude(definition_hash=current)
    if not stale.exists():
        return None
    approved = _approvers(stale)
    why = f"Approval voided: {_name(user)} changed the definition after it was sent for approval"
    why += f" (already approved by {', '.join(approved)})." if approved else "."
    for task in stale.select_for_update():
        tasks.cancel_task(task, user=user, why=why)
    _note(campaign, why, user, "approval_voided")
    return why


def check_approver(task, user, assigning=False) -> None:
    campaign = task.campaign
    if not is_system(user) and campaign.changed_by_id and campaign.changed_by_id == user.pk:
        who = user.get_username()
        if assigning:
            raise Conflict(f"{who} last changed this definition and cannot approve it (four eyes)")
        raise Forbidden(
            f"Approving needs someone else: you ({who}) last changed this definition (four eyes)"
        )
    if assigning:
        return
    if real_user(user) and task.approvals.filter(user=user).exists():
        more = task.approvals_needed - task.approvals.count()
        raise Conflict(
            f"{user.get_username()} already approved this; it needs {more} more approver"
        )
    if diffs.content_hash(definitions.export(campaign)) != task.definition_hash:
        raise Conflict("the definition changed after this request: publish it again")


def add_approval(task, user, comment="") -> bool:
    TaskApproval.objects.create(
        task=task, user=real_user(user), definition_hash=task.definition_hash, comment=comment
    )
    return task.approvals.count() >= task.approvals_needed


def _cancel_rest(task, user, why):
    rest = waiting(task.campaign).filter(request=task.request).exclude(pk=task.pk)
    for other in rest.select_for_update():
        tasks.cancel_task(other, user=user, why=why)


def settle(task, user) -> None:
    from campaigns.services.running import publish_definition

    campaign = Campaign.objects.select_for_update().get(pk=task.campaign_id)
    when = timezone.localtime(task.decided_at).strftime("%Y-%m-%d %H:%M")
    if task.decision == "rejected":
        _cancel_rest(task, user, f"rejected by {_name(user)} in task {task.pk}")
        comment = task.comment or "no comment"
        _note(
            campaign,
            f"Rejected by {_name(user)} on {when}: {comment}",
            user,
            "publication_rejected",
        )
        return
    others = waiting(campaign).filter(request=task.request)
    if others.exists():
        still = ", ".join(str(t.group) for t in others)
        _note(campaign, f"{task.policy or 'Policy'} approved; still waiting for {still}.", user,
              "publication_approved", draft=False)  # fmt: skip
        return
    round_ = HumanTask.objects.filter(request=task.request, decision="approved")
    approvers = _approvers(round_)
    version = publish_definition(
        campaign=campaign, user=user, requested_by=task.requested_by,
        message=f"approved by {', '.join(approvers)}",
    )  # fmt: skip
    round_.update(version=version)


def expired(task) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=task.campaign_id)
    _cancel_rest(task, SYSTEM, f"task {task.pk} expired")
    text = f"Approval request expired: nobody of {task.group} decided in time (task {task.pk})."
    _note(campaign, text, SYSTEM, "publication_expired")


def withdraw(campaign, user, why) -> int:
    """Cancel the open publication tasks of ``campaign`` (it stopped...); returns how many."""
    found = list(waiting(campaign).select_for_update())
    for task in found:
        tasks.cancel_task(task, user=user, why=why)
    return len(found)
