"""Campaign files (design 5.4 ``load_file.file``, design 6 ``files/``): uploaded files kept through
Django's storage API, or files read from ``settings.CAMPAIGN_FILES_DIR``.

- ``upload(*, upload, name=None, user) -> (CampaignFile, created)``: keeps an uploaded file under
  ``name`` (default: the upload's file name, cleaned), counting its bytes and lines in one
  streamed pass. An existing name is replaced (a recurring campaign then loads the new file):
  adding needs ``campaigns.add_campaignfile``, replacing ``campaigns.change_campaignfile``.
  Audited. A bad name is a ``ValidationFailed`` at ``name``, a missing file at ``file``.
- ``reference_error(value) -> str | None``: why ``value`` names no readable file: an uploaded
  file's name, else a path relative to ``CAMPAIGN_FILES_DIR`` that stays inside it.
- ``opener(value)``: a callable returning a new binary stream of that file (for
  ``audiences.population_ops.files.load``).
- ``document(campaign_file) -> {"name", "size", "rows", "uploaded_at"}``.
"""

import os
import re
from pathlib import Path

from django.conf import settings
from django.db import transaction

from campaigns.models import CampaignFile
from config.access import real_user, require
from config.audit import log_change
from config.errors import ValidationFailed

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
CHUNK = 1 << 20


def clean_name(text: str) -> str:
    base = os.path.basename(text or "")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._-")
    return cleaned[:200]


def _measure(upload):
    size, lines, last = 0, 0, b"\n"
    for chunk in upload.chunks(CHUNK):
        size += len(chunk)
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    return size, lines + (1 if size and last != b"\n" else 0)


@transaction.atomic
def upload(*, upload, name=None, user):
    if upload is None:
        raise ValidationFailed([{"path": "file", "message": "a file is required"}])
    name = name if name not in (None, "") else clean_name(getattr(upload, "name", ""))
    if not isinstance(name, str) or not NAME_RE.match(name):
        message = "letters, digits, dots, dashes and underscores (at most 200), not a path"
        raise ValidationFailed([{"path": "name", "message": message}])
    existing = CampaignFile.objects.select_for_update().filter(name=name).first()
    if existing is None:
        require(user, "campaigns.add_campaignfile", "Uploading a campaign file")
    else:
        require(user, "campaigns.change_campaignfile", "Replacing a campaign file")
    size, rows = _measure(upload)
    item = existing or CampaignFile(name=name)
    old = item.file.name if existing else None
    item.original_name = os.path.basename(getattr(upload, "name", "") or "")[:255]
    item.size, item.rows, item.uploaded_by = size, rows, real_user(user)
    item.file.save(f"{name}", upload, save=False)
    item.save()
    if old and old != item.file.name:
        storage = item.file.storage
        transaction.on_commit(lambda: storage.delete(old))
    log_change(
        user=user,
        obj=item,
        action="change" if existing else "add",
        message=f"{'Replaced' if existing else 'Uploaded'} campaign file {name}",
        details={"size": size, "rows": rows},
    )
    return item, existing is None


def _directory_path(value):
    root = getattr(settings, "CAMPAIGN_FILES_DIR", "") or ""
    if not root or not isinstance(value, str) or not value or "\x00" in value:
        return None
    base = Path(root).resolve()
    path = (base / value).resolve()
    if base not in path.parents or not path.is_file():
        return None
    return path


def reference_error(value) -> str | None:
    if not isinstance(value, str) or not value:
        return "the name of a campaign file (files/) or a path under CAMPAIGN_FILES_DIR"
    if CampaignFile.objects.filter(name=value).exists() or _directory_path(value):
        return None
    where = " or under CAMPAIGN_FILES_DIR" if getattr(settings, "CAMPAIGN_FILES_DIR", "") else ""
    return f"no campaign file named {value!r}{where}"


def opener(value):
    item = CampaignFile.objects.filter(name=value).first()
    if item is not None:
        return lambda: item.file.open("rb")
    path = _directory_path(value)
    if path is None:
        raise ValidationFailed([{"path": "file", "message": reference_error(value)}])
    return lambda: open(path, "rb")  # noqa: SIM115 - the caller closes it


def document(item) -> dict:
    return {
        "name": item.name,
        "size": item.size,
        "rows": item.rows,
        "uploaded_at": item.uploaded_at.isoformat() if item.uploaded_at else None,
    }
