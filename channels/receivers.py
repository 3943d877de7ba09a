"""Signal receivers of the channels app, connected in ``ready()``:

- ``delivery_ended``: a finished delivery with a ``goal`` gets its uplift computed
  (``channels.uplift.compute``) on commit; it can be recomputed any time later;
- anymail's ``tracking`` signal (when anymail is installed): its normalized events become
  ``channels.feedback`` events (bounced, deferred as a soft bounce, complained, delivered,
  opened, clicked), matched to the message by the ESP's message id.
"""

import logging

from channels import signals

log = logging.getLogger(__name__)
ANYMAIL_KINDS = {
    "bounced": ("bounce", "hard"),
    "rejected": ("bounce", "hard"),
    "deferred": ("bounce", "soft"),
    "complained": ("complaint", None),
    "delivered": ("delivered", None),
    "opened": ("open", None),
    "clicked": ("click", None),
}


def _uplift(sender, delivery=None, **kwargs):
    from channels import uplift

    if delivery is not None and delivery.goal and delivery.status == "finished":
        try:
            uplift.compute(delivery)
        except Exception:  # a goal that no longer compiles must not fail the delivery's end
            log.exception("uplift of delivery %s", delivery.pk)


def _anymail(sender, event=None, esp_name="", **kwargs):
    from channels import feedback

    kind, bounce = ANYMAIL_KINDS.get(getattr(event, "event_type", ""), (None, None))
    if kind is None:
        return
    document = {
        "event": kind,
        "message_id": str(event.message_id or "")[:2000],
        "recipient": str(event.recipient or "")[:2000],
        "channel": "email",
    }
    if bounce:
        document["bounce_type"] = bounce
    if kind == "click":
        document["url"] = str(getattr(event, "click_url", "") or "")[:2000]
    feedback.apply(f"anymail-{esp_name}".lower()[:40], document)


def connect() -> None:
    signals.delivery_ended.connect(_uplift, dispatch_uid="channels.uplift")
    try:
        from anymail.signals import tracking
    except ImportError:  # pragma: no cover: optional
        return
    tracking.connect(_anymail, dispatch_uid="channels.anymail")
