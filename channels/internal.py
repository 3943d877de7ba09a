"""Internal messages (issue 14): email to staff (approvers, requesters), sent through the
configured email provider (``channels.providers.get("email")``: SMTP, an ESP, or the Outbox in
local mode) but never through the message ledger, so they are never counted in a campaign's
report, never throttled with a delivery and never excluded by consent rules.

``send(*, to, subject, text, html="") -> {address: status}``: one message per address, on one
provider connection, each marked ``X-Campaign-Internal: notification``. Never raises: a provider
that is not configured, refuses or cannot be reached is logged (``channels.internal``) and its
addresses get ``failed`` (or ``unknown``): a notification must never undo the action it reports.
"""

import logging
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from channels import providers
from channels.providers import base

log = logging.getLogger(__name__)
HEADER = {"X-Campaign-Internal": "notification"}


def _message(address, subject, text, html):
    return base.OutgoingMessage(
        channel="email",
        to=address,
        message_id=make_msgid(domain="campaigns.internal"),
        subject=subject,
        text=text,
        html=html,
        from_email=settings.DEFAULT_FROM_EMAIL,
        headers=dict(HEADER),
    )


def send(*, to, subject, text, html="") -> dict:
    addresses = list(dict.fromkeys(a for a in to if a))
    if not addresses:
        return {}
    results = {}
    try:
        with providers.get("email") as provider:
            for address in addresses:
                result = provider.send(_message(address, subject[:250], text, html))
                results[address] = result.status
                if result.status != "sent":
                    log.warning("internal email to %s: %s %s", address, result.status, result.error)
    except (ImproperlyConfigured, OSError) as exc:
        log.warning("internal email %r not sent: %s", subject, exc)
        results.update({a: "failed" for a in addresses if a not in results})
    return results
