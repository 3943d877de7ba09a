"""Metadata of the runtime schemas (design 5.1). Each Schema is materialized as a real table by
``audiences.ddl``; ``audiences.dynamic`` builds the model classes that query those tables."""

from django.db import models


class AttributeType(models.TextChoices):
    STRING = "string", "String"
    TEXT = "text", "Long text"
    INTEGER = "integer", "Integer"
    DECIMAL = "decimal", "Decimal"
    FLOAT = "float", "Float"
    BOOLEAN = "boolean", "Yes / no"
    DATE = "date", "Date"
    DATETIME = "datetime", "Date and time"


NUMERIC_TYPES = {AttributeType.INTEGER, AttributeType.DECIMAL, AttributeType.FLOAT}


class Schema(models.Model):
    """An entity of the company's data: customers, purchases, stores... One row = one table."""

    name = models.CharField(
        max_length=40, unique=True, help_text="Identifier used in rules and the API, e.g. customer."
    )
    label = models.CharField(max_length=200, blank=True, help_text="Plural name shown to staff.")
    primary_key = models.CharField(
        max_length=40, help_text="The attribute that identifies a record; required and unique."
    )
    version_field = models.CharField(
        max_length=40,
        blank=True,
        help_text="Optional datetime attribute: imports never overwrite a newer record with an older one.",
    )
    targeting = models.JSONField(
        default=dict,
        blank=True,
        help_text='Channel addresses when this schema can be targeted: {"email": "email", "sms": "phone"}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("view_records", "Can see records and anything showing personal data"),
            ("change_records", "Can write, import and delete records"),
            ("count_audience", "Can count audiences and see value distributions"),
        ]

    def __str__(self):
        return self.label or self.name

    @property
    def table_name(self):
        return f"data_{self.name}"


class Attribute(models.Model):
    """A typed column of a schema's table."""

    schema = models.ForeignKey(Schema, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(max_length=40)
    type = models.CharField(max_length=10, choices=AttributeType.choices)
    required = models.BooleanField(default=False, help_text="Records must have a value.")
    indexed = models.BooleanField(default=False, help_text="Add an index for fast rules on it.")
    enum = models.JSONField(
        null=True, blank=True, help_text='Optional list of allowed values, e.g. ["FR", "DE"].'
    )
    precision = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Decimals only: total digits (default 18)."
    )
    scale = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Decimals only: digits after the point (default 4)."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["schema", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schema", "name"], name="attribute_unique_name")
        ]

    def __str__(self):
        return f"{self.schema.name}.{self.name}"


class Link(models.Model):
    """A many-to-one link: ``via`` (an attribute of ``schema``) holds the primary key of ``to``.
    ``reverse`` names the one-to-many link seen from ``to``."""

    schema = models.ForeignKey(Schema, on_delete=models.CASCADE, related_name="links")
    name = models.CharField(max_length=40)
    to = models.ForeignKey(Schema, on_delete=models.PROTECT, related_name="incoming_links")
    via = models.CharField(max_length=40, help_text="The attribute holding the linked key.")
    reverse = models.CharField(
        max_length=40, blank=True, help_text="Name of the one-to-many link on the other schema."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["schema", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["schema", "name"], name="link_unique_name")]

    def __str__(self):
        return f"{self.schema.name}.{self.name} -> {self.to.name}"


class SchemaGeneration(models.Model):
    """One row. ``token`` changes with every committed schema change; every process compares it
    with the token its models were built from (a rolled-back change never reuses a token)."""

    value = models.BigIntegerField(default=0)
    token = models.UUIDField(null=True)

    def __str__(self):
        return f"schema generation {self.value}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


def upload_storage():
    """The storage of uploaded files: ``STORAGES["uploads"]`` (README, ``UPLOADS_STORAGE``)."""
    from django.core.files.storage import storages

    return storages["uploads"]


class RecordImport(models.Model):
    """One CSV import into a schema (design 5.2): its progress, counts and rejects."""

    schema = models.ForeignKey(Schema, on_delete=models.CASCADE, related_name="imports")
    file = models.FileField(
        upload_to="imports/",
        storage=upload_storage,
        blank=True,
        help_text="The uploaded CSV file (empty for command imports, and once purged).",
    )
    original_name = models.CharField(max_length=255, blank=True)
    mode = models.CharField(max_length=10, default="upsert", help_text="upsert, insert or delete.")
    missing_links = models.CharField(max_length=10, default="reject", help_text="reject or accept.")
    encoding = models.CharField(
        max_length=10, default="utf-8", help_text="utf-8, latin-1 or cp1252."
    )
    origin = models.CharField(
        max_length=10, default="upload", help_text="upload (API or admin) or command."
    )
    attempt = models.PositiveIntegerField(
        default=1, help_text="1, plus one each time the tick took it over from a dead process."
    )
    job_id = models.CharField(max_length=64, blank=True, help_text="The RQ job of this attempt.")
    enqueued_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_bytes = models.BigIntegerField(default=0)
    read_bytes = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(default=0, help_text="Data rows read so far.")
    written = models.BigIntegerField(
        default=0, help_text="Rows now stored as the file says: new, changed or unchanged."
    )
    unchanged = models.BigIntegerField(
        default=0,
        help_text="Of the rows written, those already stored exactly as the file says, "
        "left as they were (an upsert into a populated table skips them).",
    )
    skipped_older = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    rejects = models.JSONField(
        default=list, blank=True, help_text='[{"row": 1, "message": "..."}], rows from 1.'
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import {self.pk} into {self.schema.name}"

    @property
    def percent(self):
        if self.status == ImportStatus.SUCCEEDED:
            return 100.0
        if not self.total_bytes:
            return 0.0
        return round(100.0 * self.read_bytes / self.total_bytes, 1)


class Population(models.Model):
    """A working set materialized in PostgreSQL (design 4): table ``pop_<id>`` holding the keys of
    ``schema`` records plus added columns. See ``audiences.populations``. Without a schema it holds
    the rows of a loaded file, keyed by line number (``audiences.population_ops.files``)."""

    schema = models.ForeignKey(
        Schema, null=True, blank=True, on_delete=models.PROTECT, related_name="populations"
    )
    count = models.BigIntegerField(default=0)
    columns = models.JSONField(
        default=list, blank=True, help_text='Added columns: [{"name": "total", "type": "decimal"}].'
    )
    label = models.CharField(max_length=200, blank=True, help_text="What produced it.")
    keep = models.BooleanField(default=False, help_text="Never purged (snapshots of audiences).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        what = self.schema.name if self.schema_id else "file rows"
        return f"Population {self.pk} ({self.count} {what})"

    @property
    def table_name(self):
        return self.table_of(self.pk)

    @staticmethod
    def table_of(population_id):
        """The table of population ``population_id``: the one place that names it."""
        return f"pop_{int(population_id)}"


class AudienceKind(models.TextChoices):
    RULE = "rule", "Rule (evaluated each time it is used)"
    SNAPSHOT = "snapshot", "Snapshot (fixed members)"


class SavedAudience(models.Model):
    """A named audience: a rule re-evaluated on use, or a snapshot of member keys."""

    name = models.CharField(max_length=40, unique=True, help_text="Identifier used by in_audience.")
    description = models.TextField(blank=True)
    schema = models.ForeignKey(Schema, on_delete=models.PROTECT, related_name="audiences")
    kind = models.CharField(max_length=10, choices=AudienceKind.choices, default=AudienceKind.RULE)
    where = models.JSONField(
        default=dict, blank=True, help_text="Which records belong to it: a rule (docs/rules.md)."
    )
    population = models.ForeignKey(
        Population, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    count = models.BigIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StoredFile(models.Model):
    """A file of ``audiences.storage.DatabaseStorage``: its bytes are the ``FileChunk`` rows."""

    name = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class FileChunk(models.Model):
    """Up to ``audiences.storage.CHUNK`` bytes of a stored file; ``index`` from 0."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="chunks")
    index = models.IntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "index"], name="file_chunk_unique_index")
        ]

    def __str__(self):
        return f"chunk {self.index} of file {self.file_id}"
