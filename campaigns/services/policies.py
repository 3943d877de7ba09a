"""Managing approval policies (issue 14): ``policies/`` and the admin both call these, so both
check the same things and need ``campaigns.manage_policies``. See ``campaigns.policies`` for
what each condition means.

- ``policy_errors(data) -> [{"path", "message"}]``: what is wrong with a policy document
  ``{"name", "description", "condition", "threshold", "approvals", "group", "expires_in",
  "active"}`` (``group`` a group's name; ``threshold`` only, and always, for
  ``audience_over``; ``approvals`` 1 or 2; ``expires_in`` a duration or empty);
- ``save_policy(*, user, data, policy=None) -> ApprovalPolicy``: create, or change ``policy``
  (``data`` may then hold only the fields that change);
- ``delete_policy(*, user, policy)``.
"""

from django.contrib.auth.models import Group
from django.db import transaction

from audiences import durations
from campaigns.models import ApprovalPolicy
from campaigns.models_governance import PolicyCondition
from config.access import require
from config.audit import log_change
from config.errors import ValidationFailed, error

FIELDS = ("name", "description", "condition", "threshold", "approvals", "group", "expires_in")
PERMISSION = "campaigns.manage_policies"


def as_document(policy: ApprovalPolicy) -> dict:
    return {
        "id": policy.pk,
        "name": policy.name,
        "description": policy.description,
        "condition": policy.condition,
        "threshold": policy.threshold,
        "approvals": policy.approvals,
        "group": policy.group.name if policy.group_id else None,
        "expires_in": policy.expires_in,
        "active": policy.active,
    }


def _text_errors(data, exclude_pk):
    errors = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
        errors.append(error("name", "a name of 1 to 200 characters"))
    elif ApprovalPolicy.objects.filter(name=name).exclude(pk=exclude_pk).exists():
        errors.append(error("name", f"a policy named {name!r} already exists"))
    description = data.get("description", "")
    if not isinstance(description, str) or "\x00" in description:
        errors.append(error("description", "must be text"))
    return errors


def _condition_errors(data):
    errors = []
    condition, threshold = data.get("condition"), data.get("threshold")
    if condition not in PolicyCondition.values:
        errors.append(error("condition", f"one of {', '.join(PolicyCondition.values)}"))
    if condition == "audience_over":
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
            errors.append(error("threshold", "the audience count N, a whole number from 0"))
        elif threshold > 2**63 - 1:
            errors.append(error("threshold", "too large"))
    elif threshold is not None:
        errors.append(error("threshold", "only for the condition audience_over"))
    return errors


def _approval_errors(data):
    errors = []
    if data.get("approvals") not in (1, 2) or isinstance(data.get("approvals"), bool):
        errors.append(error("approvals", "1 or 2 distinct approvals"))
    group = data.get("group")
    if not isinstance(group, str) or not Group.objects.filter(name=group).exists():
        errors.append(error("group", f"no group named {group!r}"))
    expires_in = data.get("expires_in") or ""
    if not isinstance(expires_in, str):
        errors.append(error("expires_in", "a duration such as 2d, or empty"))
    elif expires_in:
        try:
            durations.parse(expires_in, path="expires_in")
        except durations.DurationError as exc:
            errors.append(error(exc.path, exc.message))
    if not isinstance(data.get("active", True), bool):
        errors.append(error("active", "true or false"))
    return errors


def policy_errors(data, exclude_pk=None) -> list[dict]:
    if not isinstance(data, dict):
        return [error("", "a policy is an object")]
    unknown = [error(k, "unknown field") for k in data if k not in (*FIELDS, "active", "id")]
    return (
        unknown + _text_errors(data, exclude_pk) + _condition_errors(data) + _approval_errors(data)
    )


@transaction.atomic
def save_policy(*, user, data, policy=None) -> ApprovalPolicy:
    require(user, PERMISSION, "Managing approval policies")
    if not isinstance(data, dict):
        raise ValidationFailed([error("", "a policy is an object")])
    merged = {**(as_document(policy) if policy else {"approvals": 1}), **data}
    merged.pop("id", None)
    errors = policy_errors(merged, exclude_pk=getattr(policy, "pk", None))
    if errors:
        raise ValidationFailed(errors)
    before = as_document(policy) if policy else None
    policy = policy or ApprovalPolicy()
    for name in ("name", "condition", "threshold", "approvals"):
        setattr(policy, name, merged.get(name))
    policy.description = merged.get("description") or ""
    policy.expires_in = merged.get("expires_in") or ""
    policy.group = Group.objects.get(name=merged["group"])
    policy.active = merged.get("active", True)
    policy.save()
    log_change(
        user=user, obj=policy, action="change" if before else "add", event="policy_saved",
        message=f"Approval policy {policy.name} {'changed' if before else 'created'}.",
        before=before, after=as_document(policy),
    )  # fmt: skip
    return policy


@transaction.atomic
def delete_policy(*, user, policy) -> None:
    require(user, PERMISSION, "Managing approval policies")
    before = as_document(policy)
    log_change(
        user=user, obj=policy, action="delete", event="policy_deleted",
        message=f"Approval policy {policy.name} deleted.", before=before,
    )  # fmt: skip
    policy.delete()
