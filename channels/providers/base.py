"""The provider contract (design 9, 10). A provider is a class named by dotted path in
``settings.CHANNEL_PROVIDERS[channel]["BACKEND"]``, built with that entry's other keys as
``options`` (``channels.providers.get(channel)``), once per chunk of messages.

- ``open()``: connect (an SMTP session, an HTTP connection). May raise ``OSError``: nothing was
  sent; the sender retries later.
- ``send(message: OutgoingMessage) -> Result``: ONE message per call, on the open connection.
  Never raises for a provider's answer; the ``Result`` says what happened:
  - ``Result("sent", provider_id)``: accepted; ``provider_id`` is the provider's id of it (the
    Message-ID for email);
  - ``Result("failed", permanent=True, error=...)``: refused for good (SMTP 5yz, HTTP 4xx other
    than 408 and 429): never retried;
  - ``Result("failed", permanent=False, error=..., retry_after=None)``: not sent, try again later
    (SMTP 4yz, HTTP 5xx, 408, 429, a refused or broken connection before the request went out);
    the sender retries with a bounded backoff (``retry_after`` seconds when the provider said);
  - ``Result("unknown", error=...)``: the request went out and no answer came (a timeout, a
    connection lost while waiting for the reply): it may have been delivered, so it is NEVER
    retried.
- ``prepare(message)`` (optional): do the CPU work of a message ahead (build the MIME bytes);
  the sender calls it while the ledger commits, then ``send`` the same message. Default: nothing.
- ``close()``: disconnect; never raises.
- ``hourly_limit``: at most that many messages per hour on this channel, across all deliveries
  (``None``: no limit); the sender's shared throttle enforces it.
"""

from dataclasses import dataclass, field

STATUSES = ("sent", "failed", "unknown")


@dataclass
class OutgoingMessage:
    """One rendered message for one address. ``message_id`` is ours (the email Message-ID);
    ``ledger_id`` the ledger row (None for proofs)."""

    channel: str
    to: str
    message_id: str = ""
    ledger_id: int | None = None
    proof: bool = False
    subject: str = ""
    text: str = ""
    html: str = ""
    from_email: str = ""
    reply_to: str = ""
    headers: dict = field(default_factory=dict)
    title: str = ""
    body: str = ""
    data: dict = field(default_factory=dict)
    deep_link: str = ""
    prepared: object = None  # what the provider's ``prepare`` built


@dataclass(frozen=True)
class Result:
    status: str
    provider_id: str = ""
    permanent: bool = False
    error: str = ""
    retry_after: float | None = None

    @property
    def transient(self) -> bool:
        return self.status == "failed" and not self.permanent


def sent(provider_id="") -> Result:
    return Result("sent", provider_id=str(provider_id or ""))


def permanent(error) -> Result:
    return Result("failed", permanent=True, error=str(error)[:1000])


def transient(error, retry_after=None) -> Result:
    return Result("failed", permanent=False, error=str(error)[:1000], retry_after=retry_after)


def unknown(error) -> Result:
    return Result("unknown", error=str(error)[:1000])


class Provider:
    """Base class: see the module docstring for the contract."""

    channel = ""

    def __init__(self, channel="", **options):
        self.channel = channel or self.channel
        self.options = options
        limit = options.get("HOURLY_LIMIT")
        self.hourly_limit = int(limit) if limit else None

    def open(self) -> None:
        return None

    def prepare(self, message: OutgoingMessage) -> None:
        return None

    def send(self, message: OutgoingMessage) -> Result:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False
