"""Governance models: approval policies and the approvals given to a publication task.

Imported by ``campaigns.models`` (Django finds them there). Evaluating a policy is
``campaigns.policies``; asking for and giving approval is ``campaigns.services.approvals``.
"""

from django.conf import settings
from django.db import models


class PolicyCondition(models.TextChoices):
    ALWAYS = "always", "always"
    MARKETING_CHANNEL = "marketing_channel", "when a marketing channel activity is present"
    AUDIENCE_OVER = "audience_over", "when an audience count of the latest test run is above N"
    CONTENT_CHANGED = "content_changed", "when the content changed since the last approved version"


class ApprovalPolicy(models.Model):
    """When publishing needs sign-off, how many distinct approvals and from which group.

    Every active policy whose condition holds for the definition being published asks for its
    own publication task (one per policy, in its group's queue); the campaign is published once
    all of them are approved, and goes back to draft when one is rejected or expires."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    condition = models.CharField(max_length=30, choices=PolicyCondition.choices)
    threshold = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="For 'audience count above N': N. Other conditions leave it empty.",
    )
    approvals = models.PositiveSmallIntegerField(
        default=1,
        choices=[(1, "1 approval"), (2, "2 distinct approvals")],
        help_text="How many different people of the group must approve.",
    )
    group = models.ForeignKey(
        "auth.Group",
        on_delete=models.PROTECT,
        related_name="approval_policies",
        help_text="The group whose members approve (their 'My tasks' lists the request).",
    )
    expires_in = models.CharField(
        max_length=20,
        blank=True,
        help_text="A duration (2d, 12h); the request expires unanswered after it. Empty: never.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "approval policy"
        verbose_name_plural = "approval policies"
        permissions = [("manage_policies", "Can create, change and delete approval policies")]

    def __str__(self):
        return self.name


class TaskApproval(models.Model):
    """One person's approval of a publication task, bound to the definition hash it saw."""

    task = models.ForeignKey("HumanTask", on_delete=models.CASCADE, related_name="approvals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    definition_hash = models.CharField(max_length=64)
    approved_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["approved_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="task_approval_once_per_user")
        ]

    def __str__(self):
        return f"{self.user} approved task {self.task_id}"
