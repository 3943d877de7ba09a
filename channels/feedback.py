"""What comes back after a message went (issue 13), as services of the public endpoints:

- ``unsubscribe(message, *, source)``: the recipient opts out of the channel's marketing: a
  consent (with its source and the address, so every profile with that address is excluded
  too), an ``unsubscribe`` event on the message (once), audited as the system.
- ``apply(provider, event) -> str``: one provider event (the generic JSON of ``/hooks/``, or
  anymail's normalized one): ``delivered``, ``bounce`` (``bounce_type`` ``hard``, the default, or
  ``soft``), ``complaint``, ``open``, ``click``, ``inbound`` (an SMS reply: ``STOP`` and its
  equivalents opt the number out of marketing SMS). A hard bounce or a complaint suppresses the
  address; soft bounces suppress it once ``SOFT_BOUNCE_LIMIT`` are counted for it. Returns what
  was done (``"recorded"``, ``"suppressed"``, ``"opted_out"``, ``"ignored"``).
- ``parse(body) -> [event]``: the generic JSON (``{"events": [...]}`` or one event), checked
  with paths (``ValidationFailed``).
"""

import re

from django.conf import settings
from django.db import transaction

from channels import addresses, consents, tracking
from channels.models import Channel, Event, EventKind, Message, SuppressionReason
from config.access import SYSTEM
from config.errors import ValidationFailed

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "ARRÊT"}
KINDS = ("delivered", "bounce", "complaint", "open", "click", "inbound")
OURS = re.compile(r"^<?d(\d{1,18})\.m(\d{1,18})@")
TEXT_FIELDS = ("message_id", "recipient", "bounce_type", "from", "text", "channel", "url")


def unsubscribe(message: Message, *, source: str) -> bool:
    """True when this opted the recipient out (False: it already had)."""
    delivery = message.delivery
    with transaction.atomic():
        consents.set_consent(
            user=SYSTEM, schema=delivery.schema, key=message.key, channel=delivery.channel,
            status="opt_out", source=source, address=message.address,
        )  # fmt: skip
        if message.events.filter(kind=EventKind.UNSUBSCRIBE).exists():
            return False
        tracking.record(message, EventKind.UNSUBSCRIBE, data={"source": source})
    return True


def _event_errors(index, event):
    at = f"events[{index}]"
    if not isinstance(event, dict):
        return [{"path": at, "message": "must be an object"}]
    errors = []
    if event.get("event") not in KINDS:
        errors.append({"path": f"{at}.event", "message": f"must be one of {', '.join(KINDS)}"})
    for name in TEXT_FIELDS:
        value = event.get(name)
        if value is not None and (
            not isinstance(value, str) or "\x00" in value or len(value) > 2000
        ):
            errors.append({"path": f"{at}.{name}", "message": "must be a string (2000 at most)"})
    if isinstance(event.get("recipient"), str) and len(event["recipient"]) > 320:
        errors.append(
            {"path": f"{at}.recipient", "message": "an address of 320 characters at most"}
        )
    if event.get("channel") not in (None, *Channel.values):
        errors.append({"path": f"{at}.channel", "message": "must be email, sms or push"})
    return errors


def parse(body) -> list[dict]:
    if isinstance(body, dict) and "events" in body:
        events = body["events"]
        if not isinstance(events, list) or len(events) > 1000:
            raise ValidationFailed([{"path": "events", "message": "must be a list (1000 at most)"}])
    elif isinstance(body, dict):
        events = [body]
    else:
        raise ValidationFailed([{"path": "", "message": 'must be an event or {"events": [...]}'}])
    errors = [e for i, event in enumerate(events) for e in _event_errors(i, event)]
    if errors:
        raise ValidationFailed(errors)
    return events


def find_message(message_id: str | None) -> Message | None:
    """Our Message-ID (``<d1.m2@host>``) or the provider's id of a message."""
    if not message_id:
        return None
    ours = OURS.match(message_id)
    if ours:
        found = Message.objects.filter(pk=int(ours.group(2)), delivery_id=int(ours.group(1)))
        return found.select_related("delivery").first()
    return Message.objects.filter(provider_id=message_id).select_related("delivery").first()


def _suppress(channel, address, reason, note):
    if not address:
        return "ignored"
    consents.suppress(user=SYSTEM, channel=channel, address=address, reason=reason, note=note)
    return "suppressed"


def _bounce(message, channel, address, event, provider):
    soft = (event.get("bounce_type") or "hard").lower() == "soft"
    if message is not None:
        tracking.record(message, EventKind.BOUNCE, soft=soft, data={"provider": provider})
    if not soft:
        return _suppress(
            channel, address, SuppressionReason.HARD_BOUNCE, f"hard bounce ({provider})"
        )
    canonical = addresses.canonical(channel, address)
    count = Event.objects.filter(
        kind=EventKind.BOUNCE, soft=True, message__address__iexact=canonical,
        delivery__channel=channel,
    ).count()  # fmt: skip
    if address and count >= settings.SOFT_BOUNCE_LIMIT:
        return _suppress(channel, address, SuppressionReason.SOFT_BOUNCES, f"{count} soft bounces")
    return "recorded"


def _inbound(event):
    words = re.findall(r"[^\W\d_]+", (event.get("text") or "").upper())
    sender = event.get("from") or ""
    if not words or words[0] not in STOP_WORDS or not sender:
        return "ignored"
    consents.opt_out_address(user=SYSTEM, channel="sms", address=sender, source=f"SMS {words[0]}")
    return "opted_out"


def apply(provider: str, event: dict) -> str:
    kind = event["event"]
    if kind == "inbound":
        return _inbound(event)
    message = find_message(event.get("message_id"))
    channel = message.delivery.channel if message else (event.get("channel") or "email")
    address = event.get("recipient") or (message.address if message else "")
    with transaction.atomic():
        if kind == "bounce":
            return _bounce(message, channel, address, event, provider)
        if kind == "complaint":
            if message is not None:
                tracking.record(message, EventKind.COMPLAINT, data={"provider": provider})
            return _suppress(
                channel, address, SuppressionReason.COMPLAINT, f"complaint ({provider})"
            )
        if message is None:
            return "ignored"
        extra = {"url": event.get("url") or ""} if kind == "click" else {}
        tracking.record(message, kind, data={"provider": provider}, **extra)
    return "recorded"
