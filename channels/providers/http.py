"""A generic HTTP provider for SMS and push: one keep-alive connection per chunk, one POST per
message, the body rendered from a payload template (Jinja, sandboxed; values through ``tojson``).

Options (``channels.config``): ``URL``, ``AUTH_HEADER`` (``"Authorization: Bearer ..."``),
``BASIC_AUTH`` (``"user:password"``), ``PAYLOAD`` (the body template; defaults per channel below),
``ID_FIELD`` (the field of the JSON answer holding the provider's id: ``id``; ``sid`` for the form
variant), ``TIMEOUT`` (seconds), ``FROM`` (the sender, ``sender`` in the template).

Template variables: ``to``, ``sender``, ``text`` (SMS), ``title``, ``body``, ``data``,
``deep_link`` (push), ``message_id``, ``proof``.

Answers: 2xx -> sent; 408, 429 and 5xx -> transient (``Retry-After`` honoured); other 4xx ->
permanent; a connection refused or failing before the request was written -> transient; a
timeout or lost connection while waiting for the answer -> unknown (never resent).

``FormProvider`` is the Twilio-style variant: ``PAYLOAD`` is a JSON object of field templates
(default ``{"To": "{{ to }}", "From": "{{ sender }}", "Body": "{{ text }}"}``), sent as
``application/x-www-form-urlencoded``, the id read from ``sid``.
"""

import base64
import http.client
import json
from urllib.parse import urlencode, urlsplit

from jinja2.sandbox import ImmutableSandboxedEnvironment

from channels.providers import base

PAYLOADS = {
    "sms": '{"to": {{ to|tojson }}, "from": {{ sender|tojson }}, "text": {{ text|tojson }}, '
    '"reference": {{ message_id|tojson }}}',
    "push": '{"to": {{ to|tojson }}, "title": {{ title|tojson }}, "body": {{ body|tojson }}, '
    '"data": {{ data|tojson }}, "link": {{ deep_link|tojson }}, '
    '"reference": {{ message_id|tojson }}}',
}
FORM_FIELDS = '{"To": "{{ to }}", "From": "{{ sender }}", "Body": "{{ text }}"}'
_env = ImmutableSandboxedEnvironment(autoescape=False)


def _retry_after(response):
    value = response.getheader("Retry-After")
    try:
        return min(float(value), 300.0) if value else None
    except ValueError:
        return None


def classify(response, data: bytes, id_field: str) -> base.Result:
    status = response.status
    words = f"HTTP {status}: {data[:200].decode('utf-8', 'replace')}"
    if 200 <= status < 300:
        return base.sent(_provider_id(data, id_field))
    if status in (408, 429) or status >= 500:
        return base.transient(words, retry_after=_retry_after(response))
    return base.permanent(words)


def _provider_id(data, id_field):
    try:
        answer = json.loads(data or b"{}")
    except ValueError:
        return ""
    value = answer.get(id_field) if isinstance(answer, dict) else None
    return str(value) if value is not None else ""


class HTTPProvider(base.Provider):
    content_type = "application/json"
    default_id_field = "id"

    def open(self):
        url = self.options.get("URL")
        if not url:
            raise OSError(f"{self.channel.upper()}_PROVIDER_URL is not set")
        self.url = urlsplit(url)
        self.path = (self.url.path or "/") + (f"?{self.url.query}" if self.url.query else "")
        self.timeout = float(self.options.get("TIMEOUT") or 10)
        self.template = _env.from_string(self._payload_source())
        self.conn = None

    def _payload_source(self):
        return self.options.get("PAYLOAD") or PAYLOADS.get(self.channel, PAYLOADS["sms"])

    def close(self):
        self._drop()

    def _drop(self):
        if getattr(self, "conn", None) is not None:
            self.conn.close()
        self.conn = None

    def _connection(self):
        if self.conn is None:
            cls = (
                http.client.HTTPSConnection
                if self.url.scheme == "https"
                else http.client.HTTPConnection
            )
            self.conn = cls(self.url.hostname, self.url.port, timeout=self.timeout)
            self.conn.connect()
        return self.conn

    def _variables(self, message):
        return {
            "to": message.to,
            "sender": self.options.get("FROM") or "",
            "text": message.text,
            "title": message.title,
            "body": message.body,
            "data": message.data,
            "deep_link": message.deep_link,
            "message_id": message.message_id,
            "proof": message.proof,
        }

    def body(self, message) -> bytes:
        """The request body; ``ValueError`` when the payload template does not give JSON."""
        text = self.template.render(self._variables(message))
        json.loads(text)
        return text.encode()

    def headers(self):
        headers = {"Content-Type": self.content_type, "Accept": "application/json"}
        if self.options.get("AUTH_HEADER"):
            name, _, value = self.options["AUTH_HEADER"].partition(":")
            headers[name.strip()] = value.strip()
        if self.options.get("BASIC_AUTH"):
            token = base64.b64encode(self.options["BASIC_AUTH"].encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def send(self, message):
        try:
            body = self.body(message)
        except ValueError as exc:
            return base.permanent(f"the payload template does not give valid JSON: {exc}")
        try:
            conn = self._connection()
            conn.request("POST", self.path, body, self.headers())
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            return base.transient(f"cannot send the request: {exc!r}")
        try:
            response = conn.getresponse()
            data = response.read()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self._drop()
            return base.unknown(f"no answer after the request went out: {exc!r}")
        if response.will_close:
            self._drop()
        return classify(response, data, self.options.get("ID_FIELD") or self.default_id_field)


class FormProvider(HTTPProvider):
    content_type = "application/x-www-form-urlencoded"
    default_id_field = "sid"

    def _payload_source(self):
        return self.options.get("PAYLOAD") or FORM_FIELDS

    def open(self):
        super().open()
        fields = json.loads(self._payload_source())
        self.fields = {name: _env.from_string(source) for name, source in fields.items()}

    def body(self, message):
        variables = self._variables(message)
        return urlencode({name: t.render(variables) for name, t in self.fields.items()}).encode()
