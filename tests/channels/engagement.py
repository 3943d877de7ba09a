"""Helpers of the engagement tests: deliveries staged through ``channels.services`` and sent by
the real send job (``channels.jobs.send_delivery``, in this process) to the real SMTP server."""

from email import message_from_bytes

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from audiences import populations
from channels import jobs
from channels import services as channels
from channels.models import Delivery

HTML = (
    '<p>Hi {{ profile.first_name }}, <a href="https://shop.example/p?id={{ profile.customer_id }}'
    '&ref=mail">see the offer</a> · <a href="{{ message.unsubscribe_url }}">unsubscribe</a></p>'
)
OWNER = {"campaign_name": "Winter promo", "activity_key": "send"}


def smtp_settings(smtp, **extra):
    providers = {
        **settings.CHANNEL_PROVIDERS,
        "email": {"BACKEND": "channels.providers.smtp.SMTPProvider"},
    }
    return override_settings(
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port, CHANNEL_PROVIDERS=providers, **extra
    )


def stage(shop, *, keys=None, category="marketing", engagement=None, owner=None, test=False):
    where = {"field": "customer_id", "op": "in", "value": keys} if keys else {"and": []}
    return channels.stage(
        population=populations.from_rule(schema=shop, where=where),
        channel="email",
        content={"subject": "Hello {{ profile.first_name }}", "html": HTML},
        owner=owner or OWNER,
        category=category,
        test=test,
        engagement=engagement,
    )


def send(delivery) -> Delivery:
    """Start the delivery and run its send job here, to the end."""
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", started_at=timezone.now())
    jobs.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "finished", delivery.status
    return delivery


def stage_and_send(shop, **kwargs) -> Delivery:
    return send(stage(shop, **kwargs))


def parts(mail) -> dict:
    """``{"headers": message, "html": str, "text": str}`` of a received message."""
    parsed = message_from_bytes(mail["raw"])
    found = {"headers": parsed, "html": "", "text": ""}
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind in ("text/html", "text/plain"):
            body = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            found["html" if kind == "text/html" else "text"] = body
    return found


def local(url: str) -> str:
    """The path of one of our absolute URLs, for the test client."""
    assert url.startswith(settings.SITE_URL + "/"), url
    return url[len(settings.SITE_URL) :]
