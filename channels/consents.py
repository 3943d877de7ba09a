"""Consent and suppression (issue 13), keyword-only services in the caller's transaction, each
change audited (``config.audit.log_change``).

- ``set_consent(*, user, schema, key, channel, category, status, source, address="")``: the
  profile's latest choice (one row per profile, channel and category). Needs
  ``channels.add_consent``.
- ``opt_out_address(*, user, channel, address, source)``: an opt-out of an address alone (SMS
  STOP from a number): every profile with that address is excluded from marketing on that channel.
- ``import_consents(*, user, schema, rows)``: CSV rows (dicts) with ``key``, ``channel``,
  ``status`` and optional ``category``, ``source``; valid rows are written, the others come back
  as ``rejected`` ``[{"index", "message"}]`` numbered from 1 for the first data row (the records'
  rejects contract, design 5.2).
- ``suppress(*, user, channel, address, reason, note="")`` / ``unsuppress(*, user, suppression)``.
- ``default_allows(channel) -> bool``: ``CONSENT_MODEL[channel]`` is ``opt_out`` (marketing allowed
  unless the profile opted out, the default) or ``opt_in`` (marketing needs an opt-in record).
"""

from django.conf import settings
from django.db import transaction

from channels import addresses
from channels.models import (
    Category,
    Channel,
    Consent,
    ConsentStatus,
    Suppression,
    SuppressionReason,
)
from config import audit
from config.access import require
from config.errors import ValidationFailed
from config.inputs import length_error


def default_allows(channel: str) -> bool:
    return (settings.CONSENT_MODEL.get(channel) or "opt_out") != "opt_in"


def _choice(value, choices, path, errors):
    if value not in choices:
        errors.append({"path": path, "message": f"must be one of {', '.join(choices)}"})


def _text(value, model, field, path, errors, required=False):
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        errors.append({"path": path, "message": "must be a string"})
        return ""
    if required and not value.strip():
        errors.append({"path": path, "message": "is required"})
    problem = length_error(model, field, value)
    if problem:
        errors.append({"path": path, "message": problem})
    return value.strip()


def clean_consent(data: dict, prefix: str = "") -> tuple[dict, list]:
    """``(values, errors)`` of one consent document (``key``, ``channel``, ``status``,
    ``category``, ``source``); paths under ``prefix``."""
    errors: list = []
    at = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    values = {
        "key": _text(data.get("key"), Consent, "key", at("key"), errors, required=True),
        "channel": data.get("channel"),
        "status": data.get("status"),
        "category": data.get("category") or Category.MARKETING,
        "source": _text(data.get("source"), Consent, "source", at("source"), errors),
    }
    _choice(values["channel"], Channel.values, at("channel"), errors)
    _choice(values["status"], ConsentStatus.values, at("status"), errors)
    _choice(values["category"], Category.values, at("category"), errors)
    return values, errors


def _write(schema, values, address=""):
    consent, created = Consent.objects.update_or_create(
        schema=schema,
        key=values["key"],
        channel=values["channel"],
        category=values["category"],
        defaults={"status": values["status"], "source": values["source"], "address": address},
    )
    return consent, created


def set_consent(*, user, schema, key, channel, status, source="", category="marketing",
                address="") -> Consent:  # fmt: skip
    require(user, "channels.add_consent", "recording a consent")
    values, errors = clean_consent(
        {"key": key, "channel": channel, "status": status, "category": category, "source": source}
    )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        consent, created = _write(schema, values, addresses.canonical(channel, address))
        audit.log_change(
            user=user, obj=consent, action="add" if created else "change", event="consent",
            message=f"{consent} (source: {consent.source or 'none'})",
        )  # fmt: skip
    return consent


def opt_out_address(*, user, channel, address, source) -> Consent:
    canonical = addresses.canonical(channel, address)
    with transaction.atomic():
        consent, created = Consent.objects.update_or_create(
            schema=None, key="", channel=channel, category=Category.MARKETING, address=canonical,
            defaults={"status": ConsentStatus.OPT_OUT, "source": source[:200]},
        )  # fmt: skip
        audit.log_change(
            user=user, obj=consent, action="add" if created else "change", event="consent",
            message=f"{canonical} opted out of {channel} marketing ({source})",
        )  # fmt: skip
    return consent


def import_consents(*, user, schema, rows) -> dict:
    """Valid rows written in one transaction, bad rows rejected (module docstring)."""
    require(user, "channels.add_consent", "importing consents")
    rejected, written = [], 0
    with transaction.atomic():
        for index, row in enumerate(rows, start=1):
            values, errors = clean_consent(row)
            if errors:
                message = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
                rejected.append({"index": index, "message": message})
                continue
            _write(schema, values)
            written += 1
        audit.log_change(
            user=user, obj=schema, action="change", event="consent_import",
            message=f"{written} consents imported, {len(rejected)} rejected",
        )  # fmt: skip
    return {"written": written, "rejected": rejected}


def suppress(*, user, channel, address, reason, note="") -> Suppression:
    """Suppress ``address`` on ``channel`` (kept as it is when already suppressed)."""
    require(user, "channels.add_suppression", "suppressing an address")
    errors = []
    _choice(channel, Channel.values, "channel", errors)
    _choice(reason, SuppressionReason.values, "reason", errors)
    canonical = _text(address, Suppression, "address", "address", errors, required=True)
    note = _text(note, Suppression, "note", "note", errors)
    if errors:
        raise ValidationFailed(errors)
    canonical = addresses.canonical(channel, canonical)
    with transaction.atomic():
        found, created = Suppression.objects.get_or_create(
            channel=channel, address=canonical, defaults={"reason": reason, "note": note}
        )
        if created:
            audit.log_change(
                user=user, obj=found, action="add", event="suppress", message=str(found)
            )
    return found


def unsuppress(*, user, suppression) -> None:
    require(user, "channels.delete_suppression", "removing a suppression")
    with transaction.atomic():
        audit.log_change(
            user=user,
            obj=suppression,
            action="delete",
            event="unsuppress",
            message=str(suppression),
        )
        suppression.delete()
