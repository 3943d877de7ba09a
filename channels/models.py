"""The message ledger (design 10) and the Outbox.

- ``Delivery``: one channel activity in one run (or a proof): what to send (``content``), to whom
  (a population of ``schema`` staged into ``Message`` rows), how fast, until when, and where it
  stands. Its owner is named by plain ids (``run_id``, ``activity_run_id``, ``campaign_id``):
  ``channels`` never imports ``campaigns``.
- ``Message``: one row per recipient and delivery (unique ``(delivery, key)``): the address, or
  the exclusion reason, then the fate: ``queued`` -> ``sending`` -> ``sent`` | ``failed`` |
  ``unknown``; or ``excluded``, ``expired``, ``cancelled``. Each message has exactly one fate.
- ``Chunk``: the unit of sending, claimed with a committed lease (``lease_until``).
- ``RateBucket``: the shared throttle state (next free send slot) per delivery and per provider.
- ``OutboxMessage``: what the Outbox provider (and local mode's Django mail) kept.
"""

from django.db import models
from django.db.models.functions import Now


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PUSH = "push", "Push"


class DeliveryStatus(models.TextChoices):
    STAGED = "staged", "Staged (test run: nothing sent)"
    CONFIRMING = "confirming", "Waiting for send confirmation"
    SENDING = "sending", "Sending"
    HELD = "held", "Held (campaign paused)"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"
    STOPPED = "stopped", "Stopped"


OPEN_DELIVERY = (DeliveryStatus.CONFIRMING, DeliveryStatus.SENDING, DeliveryStatus.HELD)


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (no answer; never resent)"
    EXCLUDED = "excluded", "Excluded"
    EXPIRED = "expired", "Expired (validity window ended)"
    CANCELLED = "cancelled", "Cancelled"


OPEN_MESSAGE = (MessageStatus.QUEUED, MessageStatus.SENDING)


class Delivery(models.Model):
    channel = models.CharField(max_length=10, choices=Channel.choices)
    category = models.CharField(max_length=20, default="marketing")
    test = models.BooleanField(default=False, help_text="Staged and counted, nothing sent.")
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.STAGED
    )
    campaign_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    campaign_name = models.CharField(max_length=200, blank=True)
    run_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    activity_run_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    activity_key = models.CharField(max_length=40, blank=True)
    schema = models.ForeignKey(
        "audiences.Schema", on_delete=models.PROTECT, related_name="deliveries"
    )
    population = models.ForeignKey(
        "audiences.Population", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address_field = models.CharField(max_length=40)
    content = models.JSONField(default=dict, help_text="The message definition (templates).")
    context = models.JSONField(default=dict, help_text="vars and campaign for personalization.")
    throttle_per_second = models.PositiveIntegerField(null=True, blank=True)
    validity_hours = models.PositiveIntegerField(default=12)
    chunk_size = models.PositiveIntegerField(default=500)
    targeted = models.BigIntegerField(default=0, help_text="Recipients in the population.")
    staged = models.BigIntegerField(default=0, help_text="Recipients left after exclusions.")
    excluded = models.JSONField(default=dict, blank=True, help_text="{reason: count}.")
    samples = models.JSONField(default=list, blank=True, help_text="Rendered samples.")
    jobs_enqueued_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Why it was cancelled or stopped.")
    frequency_cap = models.JSONField(
        null=True,
        blank=True,
        help_text='The campaign\'s {"messages": K, "days": D} (empty: the setting).',
    )
    control_group = models.JSONField(null=True, blank=True, help_text='{"percent": P} held out.')
    control_seed = models.CharField(max_length=80, blank=True, help_text="Seed of the holdout.")
    goal = models.JSONField(null=True, blank=True, help_text="The goal rule (incrementality).")
    uplift = models.JSONField(null=True, blank=True, help_text="The last uplift computed.")
    timezone = models.CharField(max_length=64, blank=True, help_text="The campaign's time zone.")
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Nothing is sent before (the end of quiet hours)."
    )
    staged_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self):
        where = f"{self.campaign_name} / {self.activity_key}" if self.campaign_name else "proof"
        return f"{self.get_channel_display()} delivery {self.pk} ({where})"


class Message(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="messages")
    key = models.TextField(help_text="The recipient's primary key (as text).")
    address = models.TextField(blank=True, db_default="")
    status = models.CharField(max_length=12, choices=MessageStatus.choices)
    reason = models.CharField(
        max_length=40, blank=True, db_default="", help_text="Exclusion reason id."
    )
    chunk = models.IntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(db_default=0)
    provider_id = models.CharField(max_length=255, blank=True, db_default="")
    error = models.TextField(blank=True, db_default="")
    marked_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "key"], name="message_recipient_unique")
        ]
        indexes = [
            models.Index(fields=["delivery", "status"], name="message_delivery_status"),
            models.Index(fields=["delivery", "chunk"], name="message_delivery_chunk"),
            models.Index(fields=["key", "delivery"], name="message_key_delivery"),
            models.Index(
                fields=["provider_id"],
                name="message_provider_id",
                condition=~models.Q(provider_id=""),
            ),
        ]

    def __str__(self):
        return f"message {self.pk} to {self.address or self.key} ({self.status})"


class ChunkStatus(models.TextChoices):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"


class Chunk(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="chunks")
    number = models.IntegerField()
    status = models.CharField(max_length=10, choices=ChunkStatus.choices, db_default="pending")
    claimed_by = models.CharField(max_length=64, blank=True, db_default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(db_default=0)
    # Fates counted as they are recorded (same transaction), so progress is a sum over chunks.
    sent = models.IntegerField(db_default=0)
    failed = models.IntegerField(db_default=0)
    unknown = models.IntegerField(db_default=0)
    expired = models.IntegerField(db_default=0)
    cancelled = models.IntegerField(db_default=0)
    excluded = models.IntegerField(db_default=0, help_text="Excluded at send time.")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="chunk_number_unique")
        ]
        indexes = [models.Index(fields=["delivery", "status"], name="chunk_delivery_status")]

    def __str__(self):
        return f"chunk {self.number} of delivery {self.delivery_id}"


class RateBucket(models.Model):
    """``next_at``: when the next message of this bucket may go (GCRA, design 10)."""

    key = models.CharField(max_length=80, primary_key=True)
    next_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return self.key


class OutboxMessage(models.Model):
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.TextField()
    sender = models.TextField(blank=True)
    subject = models.TextField(blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_ref = models.BigIntegerField(null=True, blank=True, help_text="The ledger message.")
    proof = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox message"

    def __str__(self):
        return f"{self.channel} to {self.to}: {self.subject[:60]}"


class Proof(models.Model):
    """A proof sent (design 10): never in the ledger, never counted."""

    campaign_id = models.BigIntegerField(null=True, blank=True)
    campaign_name = models.CharField(max_length=200, blank=True)
    activity_key = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    record_key = models.TextField()
    to = models.JSONField(default=list)
    results = models.JSONField(default=list, help_text="[{to, status, provider_id, error}]")
    sent_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"proof of {self.activity_key} to {', '.join(self.to)}"


class Category(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"


class ConsentStatus(models.TextChoices):
    OPT_IN = "opt_in", "Opted in"
    OPT_OUT = "opt_out", "Opted out"


class Consent(models.Model):
    """A profile's choice for one channel and category (the latest one wins: one row per
    profile, channel and category; the audit trail keeps the history). ``address`` is the
    normalized address it was given from (an unsubscribe link, an SMS STOP): an opt-out also
    excludes every profile with that address. A row with no profile (``key`` empty) is an
    opt-out of the address alone (an SMS STOP from a number)."""

    schema = models.ForeignKey(
        "audiences.Schema", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="The targeting schema of the profile (empty for an address alone).",
    )  # fmt: skip
    key = models.CharField(max_length=255, blank=True, help_text="The profile's primary key.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.MARKETING)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    address = models.CharField(
        max_length=320, blank=True, help_text="Normalized address (lower-cased email, E.164)."
    )
    source = models.CharField(
        max_length=200, blank=True, help_text="Where it came from: an import, a link, STOP..."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schema", "key", "channel", "category"],
                condition=~models.Q(key=""),
                name="consent_profile_unique",
            ),
            models.UniqueConstraint(
                fields=["address", "channel", "category"],
                condition=models.Q(key=""),
                name="consent_address_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "address"], name="consent_channel_address"),
        ]

    def __str__(self):
        who = self.key or self.address
        return f"{who}: {self.get_status_display()} {self.channel} {self.category}"


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    SOFT_BOUNCES = "soft_bounces", "Repeated soft bounces"
    COMPLAINT = "complaint", "Spam complaint"
    BLOCKLIST = "blocklist", "Blocklist (manual)"


class Suppression(models.Model):
    """An address that gets nothing on its channel, marketing or transactional."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(
        max_length=320, help_text="Normalized address (lower-cased email, E.164 phone, token)."
    )
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_unique")
        ]

    def __str__(self):
        return f"{self.address} ({self.channel}): {self.get_reason_display()}"


class EventKind(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    OPEN = "open", "Open"
    CLICK = "click", "Click"
    BOUNCE = "bounce", "Bounce"
    COMPLAINT = "complaint", "Complaint"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe"


class Event(models.Model):
    """What happened to a message after it went (tracking, provider webhooks)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    bot = models.BooleanField(default=False, help_text="A proxy or prefetch, not a person.")
    soft = models.BooleanField(default=False, help_text="A soft (temporary) bounce.")
    url = models.TextField(blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["delivery", "kind", "bot", "message"], name="event_delivery_kind"),
        ]

    def __str__(self):
        return f"{self.kind} of message {self.message_id}"
