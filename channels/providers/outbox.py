"""The Outbox: messages kept in PostgreSQL (``channels.models.OutboxMessage``) and read in the
admin, the embedded default of ``make run``: nothing leaves the machine. ``EmailBackend`` is the
same store as a Django email backend, so staff mail (``alert``) lands there too."""

from django.core.mail.backends.base import BaseEmailBackend

from channels.providers import base


class OutboxProvider(base.Provider):
    def send(self, message):
        from channels.models import OutboxMessage

        row = OutboxMessage.objects.create(
            channel=self.channel or message.channel,
            to=message.to,
            sender=message.from_email,
            subject=message.subject or message.title,
            text=message.text or message.body,
            html=message.html,
            data={"data": message.data, "deep_link": message.deep_link}
            if message.data or message.deep_link
            else {},
            headers={"Message-ID": message.message_id, **message.headers}
            if message.message_id
            else message.headers,
            message_ref=message.ledger_id,
            proof=message.proof,
        )
        return base.sent(message.message_id or f"outbox:{row.pk}")


class EmailBackend(BaseEmailBackend):
    """Django's email API into the Outbox (``EMAIL_BACKEND`` in local mode)."""

    def send_messages(self, email_messages):
        from channels.models import OutboxMessage

        count = 0
        for email in email_messages:
            html = next(
                (c for c, kind in getattr(email, "alternatives", []) if kind == "text/html"), ""
            )
            for address in email.recipients():
                OutboxMessage.objects.create(
                    channel="email",
                    to=address,
                    sender=email.from_email or "",
                    subject=email.subject,
                    text=email.body,
                    html=html,
                    headers=dict(email.extra_headers),
                )
            count += 1
        return count
