"""django-anymail's ESP backends (Postmark, SendGrid, Mailgun, Amazon SES...) as an email
provider: ``EMAIL_PROVIDER=anymail`` and ``EMAIL_ESP_BACKEND=anymail.backends.postmark.EmailBackend``
with anymail's own settings (``ANYMAIL`` in settings: ``ANYMAIL_SETTINGS`` JSON in the
environment). Optional: ``pip install -e '.[esp]'``.

One API call per message on one backend instance per chunk. Answers: the ESP's message id ->
sent; recipients refused or an API error 4xx (not 408/429) -> permanent; 408, 429, 5xx or a
connection error -> transient; a read timeout after the request went out -> unknown.
"""

from django.core.mail import get_connection

from channels.providers import base
from channels.providers.smtp import email_message


def _api_result(exc):
    """Anymail wraps the ``requests`` errors in ``AnymailRequestsAPIError`` (``__cause__``)."""
    from requests.exceptions import ConnectionError, ReadTimeout

    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ReadTimeout):
        return base.unknown(f"no answer from the ESP: {cause}")
    if isinstance(cause, ConnectionError):
        return base.transient(f"cannot reach the ESP: {cause}")
    status = getattr(exc, "status_code", None)
    if status is None:
        return base.transient(f"ESP error: {exc}")
    if status in (408, 429) or status >= 500:
        return base.transient(f"ESP HTTP {status}: {exc}")
    return base.permanent(f"ESP HTTP {status}: {exc}")


class AnymailProvider(base.Provider):
    channel = "email"

    def open(self):
        path = self.options.get("ESP_BACKEND")
        if not path:
            raise OSError("EMAIL_ESP_BACKEND is not set")
        self.backend = get_connection(path, fail_silently=False)
        self.backend.open()

    def close(self):
        try:
            self.backend.close()
        except Exception:  # closing never fails a send
            pass

    def send(self, message):
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

        email = email_message(message, self.backend)
        try:
            self.backend.send_messages([email])
        except AnymailRecipientsRefused as exc:
            return base.permanent(f"ESP refused the recipient: {exc}")
        except AnymailAPIError as exc:
            return _api_result(exc)
        status = getattr(email, "anymail_status", None)
        return base.sent(getattr(status, "message_id", "") or message.message_id)
