"""SMTP through Django's email backend: one connection per chunk (``open``/``close``), one message
per ``send`` call, so each message gets its own answer (Django's ``send_messages`` of a list does
not say which one failed).

Answers: 250 -> sent (the provider id is the Message-ID); 5yz -> permanent; 4yz and a connection
refused or lost before the message body went out -> transient; a timeout or a lost connection
after the body went out (waiting for the final reply) -> unknown, never resent. The connection
records when the body's final ``CRLF.CRLF`` was handed to the socket (``body_sent``).
"""

import functools
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

from channels.providers import base


class TrackedSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` that notes when a message body has been sent."""

    body_sent = False

    def send(self, s):
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.body_sent = True


class TrackedSMTPSSL(smtplib.SMTP_SSL, TrackedSMTP):
    pass


class Backend(EmailBackend):
    @property
    def connection_class(self):
        return TrackedSMTPSSL if self.use_ssl else TrackedSMTP


def email_message(message: base.OutgoingMessage, connection=None) -> EmailMultiAlternatives:
    """The Django email of an outgoing message (text, and HTML as an alternative)."""
    headers = {"Message-ID": message.message_id, **message.headers} if message.message_id else {}
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers or dict(message.headers),
        connection=connection,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


@functools.lru_cache(maxsize=64)
def _sender(from_email, encoding):
    """The envelope sender, parsed once per address (the same for every message of a delivery;
    parsing an address is a tenth of building a message)."""
    return sanitize_address(from_email, encoding)


def classify(code, text) -> base.Result:
    words = f"SMTP {code}: {text!r}"
    if 500 <= int(code or 0) < 600:
        return base.permanent(words)
    return base.transient(words)


class SMTPProvider(base.Provider):
    channel = "email"

    def _backend(self):
        return Backend(
            host=self.options.get("HOST") or settings.EMAIL_HOST,
            port=self.options.get("PORT") or settings.EMAIL_PORT,
            username=settings.EMAIL_HOST_USER,
            password=settings.EMAIL_HOST_PASSWORD,
            use_tls=settings.EMAIL_USE_TLS,
            timeout=getattr(settings, "EMAIL_TIMEOUT", 20),
            fail_silently=False,
        )

    def open(self):
        self.backend = self._backend()
        self.backend.open()

    def close(self):
        backend = getattr(self, "backend", None)
        if backend is not None:
            try:
                backend.close()
            except Exception:  # closing never fails a send
                backend.connection = None

    def _reset(self):
        self.close()
        self.backend = self._backend()

    def prepare(self, message):
        """The envelope and the MIME bytes, as Django's ``_send`` builds them."""
        email = email_message(message, self.backend)
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = _sender(email.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in email.recipients()]
        message.prepared = (sender, recipients, email.message().as_bytes(linesep="\r\n"))

    def _deliver(self, message):
        if message.prepared is None:
            self.prepare(message)
        sender, recipients, data = message.prepared
        self.backend.connection.sendmail(sender, recipients, data)

    def send(self, message):
        try:
            if self.backend.connection is None:
                self.backend.open()
        except OSError as exc:
            self._reset()
            return base.transient(f"cannot connect: {exc}")
        connection = self.backend.connection
        connection.body_sent = False
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return classify(code, text)
        except smtplib.SMTPResponseException as exc:
            result = classify(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code in (421,):
                self._reset()
            return result
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            body_sent = connection.body_sent
            self._reset()
            if body_sent:
                return base.unknown(f"no answer after the message went out: {exc!r}")
            return base.transient(f"connection lost before the message went out: {exc!r}")
        return base.sent(message.message_id)
