"""The audit of record imports (issue 14): every import is recorded when it is created, with
who asked, the schema, the file and the mode, whichever way it came in (the API, the admin, a
command). A receiver, so the import code itself stays as it is; the counts and the outcome stay
on the import (``RecordImport``: written, rejected, status), which the entry links to."""

from django.db.models.signals import post_save

from config.audit import log_change


def import_created(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    log_change(
        user=instance.created_by, obj=instance, action="add", event="import",
        message=f"Import {instance.pk} of {instance.original_name or 'a file'} into "
        f"{instance.schema.name} ({instance.mode}) queued.",
        after={"schema": instance.schema.name, "file": instance.original_name,
               "mode": instance.mode, "missing_links": instance.missing_links},
    )  # fmt: skip


def connect() -> None:
    from audiences.models import RecordImport

    post_save.connect(import_created, sender=RecordImport, dispatch_uid="audit.import")
