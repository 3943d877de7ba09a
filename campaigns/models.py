"""Campaigns: the graph (Activity, Transition), its immutable versions, runs and human tasks.

The graph rows are the editable draft (of a draft campaign, or of the revision open on a published
one); a run never reads them: it reads the ``Version`` it is bound to (design 7). An activity's
options live in one JSON ``options`` field, described and validated by its kind's option schema
(``campaigns.activities``): the kinds are the registry's, not models. ``Activity`` stays a
``PolymorphicModel`` so that a plugin kind needing relational data of its own can add a child model.
"""

from django.conf import settings
from django.db import models
from polymorphic.models import PolymorphicModel


class CampaignStatus(models.TextChoices):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval", "pending approval"
    SCHEDULED = "scheduled"
    LIVE = "live"
    PAUSED = "paused"
    COMPLETED = "completed"
    CLOSED = "closed"
    STOPPED = "stopped"
    ARCHIVED = "archived"


class Campaign(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    error_policy = models.JSONField(
        default=dict,
        blank=True,
        help_text='What happens when an activity fails: {"on_error": "stop" or "ignore", '
        '"retries": 2, "retry_delay": "5min"} (docs/campaigns.md, Error policy).',
    )
    schedule = models.JSONField(
        default=dict,
        blank=True,
        help_text='When it runs: {"frequency": "once", "at": "2026-12-01T09:00", "timezone": '
        '"Europe/Paris"}; or asap, daily, weekly, monthly, every, cron, signal '
        "(docs/campaigns.md, Schedules).",
    )
    variables = models.JSONField(default=list, blank=True, help_text="[{name, type, default}]")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    next_launch_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_triggered_at = models.DateTimeField(null=True, blank=True)
    revision_opened_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a revision of the published campaign is open."
    )
    revision_opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="First publication: where an 'every' schedule counts from."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who last changed the definition (four eyes: they cannot approve it).",
    )
    changed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Hash of the draft definition, position and label left out (campaigns.diffs).",
    )
    status_note = models.TextField(
        blank=True, help_text="Why the campaign is in its state: a rejection, a voided approval."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("test_run_campaign", "Can test-run a campaign"),
            ("publish_campaign", "Can publish a campaign"),
            ("operate_campaign", "Can pause, resume, stop and close a campaign and its runs"),
            ("archive_campaign", "Can archive a campaign"),
            ("trigger_campaign", "Can trigger a signal campaign"),
            ("send_proof", "Can send proofs of a campaign's messages"),
        ]

    def __str__(self):
        return self.name


class Activity(PolymorphicModel):
    """One node of the draft graph. ``key`` is the definition's ``id``."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="activities")
    key = models.CharField(max_length=40)
    type = models.CharField(max_length=40)
    label = models.CharField(max_length=200, blank=True)
    position = models.JSONField(null=True, blank=True, help_text="[x, y] on the canvas.")
    options = models.JSONField(default=dict, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="activity_key_unique"),
        ]

    def __str__(self):
        return f"{self.key} ({self.type})"


class LaunchStatus(models.TextChoices):
    LAUNCHED = "launched"
    SKIPPED = "skipped"


class Launch(models.Model):
    """One scheduled launch of a campaign (design 11): launched (with its run) or skipped (with
    why). Unique per campaign and time, so several ticks never launch twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="launches")
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=10, choices=LaunchStatus.choices)
    reason = models.CharField(max_length=200, blank=True)
    missed = models.PositiveIntegerField(
        default=0, help_text="Earlier launch times this one caught up for (missed while down)."
    )
    run = models.ForeignKey(
        "Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="launches"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "scheduled_for"], name="launch_unique_time"
            ),
        ]

    def __str__(self):
        return f"{self.campaign} at {self.scheduled_for:%Y-%m-%d %H:%M} ({self.status})"


class Transition(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="transitions")
    source = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="outbound")
    port = models.CharField(max_length=40, default="out")
    target = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="inbound")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return f"{self.source.key}.{self.port} -> {self.target.key}"


class Version(models.Model):
    """An immutable definition: numbered when published, unnumbered (null) for a test run."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(null=True, blank=True)
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["campaign", "number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="version_number_unique"),
        ]

    def __str__(self):
        return f"{self.campaign} v{self.number or 'test'}"


class RunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


FINAL_RUN = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED}


class Run(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="runs")
    test = models.BooleanField(default=False)
    variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    trigger = models.CharField(max_length=200, blank=True, help_text="What started it.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("view_job_queues", "Can see the job queues dashboard")]

    def __str__(self):
        return f"Run {self.pk} of {self.campaign}"


class ActivityRunStatus(models.TextChoices):
    PENDING = "pending"
    WAITING = "waiting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


FINAL_ACTIVITY = {
    ActivityRunStatus.SUCCEEDED,
    ActivityRunStatus.FAILED,
    ActivityRunStatus.SKIPPED,
    ActivityRunStatus.CANCELLED,
}


class ActivityRun(models.Model):
    """The state of one activity in one run. ``outputs`` maps each port to a population id, or
    null for a port that carried nothing; ``counts`` maps each port to its count."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="activity_runs")
    key = models.CharField(max_length=40)
    type = models.CharField(max_length=40)
    status = models.CharField(
        max_length=20, choices=ActivityRunStatus.choices, default=ActivityRunStatus.PENDING
    )
    attempt = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True, help_text="Kind-specific progress.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="activity_run_key_unique"),
        ]

    def __str__(self):
        return f"{self.key} in run {self.run_id}"


class HumanTaskStatus(models.TextChoices):
    NEW = "new"
    ASSIGNED = "assigned"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_TASK = {HumanTaskStatus.NEW, HumanTaskStatus.ASSIGNED}


class HumanTask(models.Model):
    """Work waiting on a person, in one queue (``campaigns.services.tasks``): an approval
    activity's decision, a publication approval, a send confirmation (``kind``, one entry of
    ``campaigns.task_kinds``). Statuses move new -> assigned -> done | cancelled | expired.

    A run's activity (``activity_run``) waits on its task until it is decided or expires. A
    publication approval names its ``campaign``, the ``policy`` that asked for it, the hash of the
    definition it approves (``definition_hash``: any other content voids it), how many distinct
    approvals it needs (``approvals_needed``, each a ``TaskApproval``) and, once approved, the
    ``version`` it published."""

    kind = models.CharField(max_length=40, default="approval")
    status = models.CharField(
        max_length=20, choices=HumanTaskStatus.choices, default=HumanTaskStatus.NEW
    )
    title = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    group = models.ForeignKey("auth.Group", null=True, blank=True, on_delete=models.SET_NULL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_tasks",
    )
    decision = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.CASCADE)
    activity_run = models.ForeignKey(
        ActivityRun, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    policy = models.ForeignKey(
        "ApprovalPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why the policy applies.")
    request = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The publication request (one per publish) whose policies asked for this task.",
    )
    definition_hash = models.CharField(max_length=64, blank=True)
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.ForeignKey(
        Version,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approval_tasks",
        help_text="The version this approval published.",
    )
    reminded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the approvers were reminded that it expires soon (once per task).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "group"], name="task_status_group")]
        permissions = [
            ("decide_task", "Can approve or reject tasks of one's groups"),
            ("assign_task", "Can assign and reassign tasks of one's groups"),
            ("confirm_send", "Can confirm (or reject) a send waiting for confirmation"),
        ]

    def __str__(self):
        return f"{self.kind} task {self.pk}"


class CampaignFile(models.Model):
    """A file uploaded for campaigns (``POST files/`` or the admin), named for ``load_file.file``.
    Its content is kept through Django's storage API (``STORAGES["default"]``), so every host
    reads the same file; see ``campaigns.files``."""

    name = models.CharField(
        max_length=200,
        unique=True,
        help_text="The name load_file activities use: letters, digits, dots, dashes, underscores.",
    )
    file = models.FileField(upload_to="campaign_files/", help_text="The stored file.")
    original_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0, help_text="Bytes.")
    rows = models.BigIntegerField(default=0, help_text="Lines in the file.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


from campaigns.models_governance import ApprovalPolicy, TaskApproval  # noqa: E402, F401
