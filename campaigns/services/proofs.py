"""Proofs and previews of a channel activity (design 6 ``campaigns/{id}/proof/``, design 10).

- ``send_proof(*, campaign, user, activity, record, to) -> Proof``: render activity ``activity``
  of the campaign's current definition for record ``record`` (a primary key of the activity's
  targeting schema) and send it to each address of ``to``, marked as a proof ("[Proof]" subject,
  ``X-Campaign-Proof`` header). Never in the ledger, never counted; its links name no message, so
  they act on no real record. ``to`` is limited to the domains of ``PROOF_ALLOWED_DOMAINS`` and
  the active staff users' own email addresses (SMS and push: ``PROOF_ALLOWED_ADDRESSES``), so
  proofs are no open relay. Needs ``campaigns.send_proof`` (lifecycle row ``send_proof``).
- ``preview(*, campaign, user, activity, record) -> dict``: the same rendering, returned (for
  SMS with its length and segments); needs ``audiences.view_records`` (personal data).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from audiences import dynamic
from audiences.models import Schema
from campaigns import definitions, graph, lifecycle
from campaigns.activities import registry
from campaigns.activities.channel import ChannelKind
from channels import content as shaping
from channels import providers, sending
from channels.models import Delivery, Proof
from channels.services import render_for
from config.access import real_user, require
from config.audit import log_change
from config.errors import NotFound, ValidationFailed

MAX_PROOF_ADDRESSES = 10


def _channel_activity(campaign, key):
    definition = definitions.export(campaign)
    item = next((a for a in definition["activities"] if a["id"] == key), None)
    if item is None:
        raise ValidationFailed([{"path": "activity", "message": f"no activity {key!r}"}])
    kind = registry.get(item["type"])
    if not isinstance(kind, ChannelKind):
        raise ValidationFailed(
            [{"path": "activity", "message": f"{key} is not a channel activity"}]
        )
    shape = graph.Graph(definition).inbound_shapes(key, graph.shapes(definition))
    schema_name = next((s.schema for s in shape.values() if s is not None), None)
    schema = Schema.objects.filter(name=schema_name).first() if schema_name else None
    if schema is None:
        raise ValidationFailed([{"path": "activity", "message": f"{key} has no input to render"}])
    return kind, kind.with_defaults(definitions.options_of(item)), schema, definition


def _delivery(campaign, kind, options, schema, definition):
    """An unsaved delivery carrying what rendering needs."""
    declared = {v["name"]: v.get("default") for v in definition.get("variables", [])}
    return Delivery(
        channel=kind.channel,
        schema=schema,
        content=kind.message(options),
        context={"vars": declared, "campaign": {"id": campaign.pk, "name": campaign.name}},
    )


def _record_address(schema, record, channel):
    model = dynamic.get_model(schema.name)
    field = (schema.targeting or {}).get(channel)
    try:
        row = model.objects.filter(pk=record).values(dynamic.attname_of(model, field)).first()
    except (ValueError, TypeError, KeyError):
        row = None
    if row is None:
        raise NotFound(f"no {schema.name} record {record!r}")
    return next(iter(row.values())) or ""


def _allowed(channel, address):
    if channel != "email":
        return address in getattr(settings, "PROOF_ALLOWED_ADDRESSES", [])
    domain = address.rpartition("@")[2].lower()
    if domain and domain in settings.PROOF_ALLOWED_DOMAINS:
        return True
    staff = get_user_model().objects.filter(is_staff=True, is_active=True)
    return staff.filter(email__iexact=address).exists()


def _check_addresses(channel, to):
    if not isinstance(to, list) or not to or len(to) > MAX_PROOF_ADDRESSES:
        raise ValidationFailed(
            [{"path": "to", "message": f"give 1 to {MAX_PROOF_ADDRESSES} addresses"}]
        )
    errors = []
    for index, address in enumerate(to):
        if not isinstance(address, str) or not address.strip():
            errors.append({"path": f"to[{index}]", "message": "an address is required"})
        elif not _allowed(channel, address.strip()):
            errors.append(
                {
                    "path": f"to[{index}]",
                    "message": "proofs go only to staff users' own addresses or to "
                    "PROOF_ALLOWED_DOMAINS / PROOF_ALLOWED_ADDRESSES",
                }
            )
    if errors:
        raise ValidationFailed(errors)
    return [a.strip() for a in to]


def _rendered(campaign, activity, record):
    if not isinstance(record, str | int) or record in ("", None):
        raise ValidationFailed([{"path": "record", "message": "a record key is required"}])
    kind, options, schema, definition = _channel_activity(campaign, activity)
    delivery = _delivery(campaign, kind, options, schema, definition)
    address = _record_address(schema, record, kind.channel)
    return kind, delivery, render_for(delivery, record, address, proof=True)


def preview(*, campaign, user, activity, record) -> dict:
    require(user, "audiences.view_records", "Previewing a message")
    kind, _delivery_, parts = _rendered(campaign, activity, record)
    if kind.channel == "sms" and "text" in parts:
        parts["segments"] = shaping.sms_segments(parts["text"])
    return {"activity": activity, "channel": kind.channel, **parts}


@transaction.atomic
def send_proof(*, campaign, user, activity=None, record=None, to=None) -> Proof:
    lifecycle.check("send_proof", campaign, user)
    if not activity:
        raise ValidationFailed([{"path": "activity", "message": "choose a channel activity"}])
    kind, delivery, parts = _rendered(campaign, activity, record)
    addresses = _check_addresses(kind.channel, to)
    if parts.get("error"):
        raise ValidationFailed(
            [{"path": "activity", "message": f"cannot render: {parts['error']}"}]
        )
    results = []
    with providers.get(kind.channel) as provider:
        for address in addresses:
            message = sending.outgoing(delivery, address, parts, proof=True)
            result = provider.send(message)
            results.append(
                {
                    "to": address,
                    "status": result.status,
                    "provider_id": result.provider_id,
                    "error": result.error,
                }
            )
    proof = Proof.objects.create(
        campaign_id=campaign.pk,
        campaign_name=campaign.name,
        activity_key=activity,
        channel=kind.channel,
        record_key=str(record),
        to=addresses,
        results=results,
        sent_by=real_user(user),
    )
    log_change(
        user=user,
        obj=campaign,
        action="change",
        message=f"Proof of {activity} sent to {', '.join(addresses)}.",
    )
    return proof
