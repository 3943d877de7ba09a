"""Tracking (issue 13): signed tokens, link rewriting at render time, events tied to messages.

Tokens are ``django.core.signing`` values under ``SECRET_KEY`` (rotating through
``SECRET_KEY_FALLBACKS``), ONE SALT PER PURPOSE (``SALTS``), so an open or click token never
unsubscribes anyone. A click token names the message AND the URL the project rendered (signed
together, compressed), so only rendered URLs ever redirect (no open redirect) and personalized
links work; a token that does not verify is refused (``BadToken``).

- ``track(parts, message_id)``: an email's rendered parts with every ``http(s)`` link of its
  HTML rewritten to ``/t/c/<token>`` (not the project's own links: unsubscribe, view) and an open
  pixel ``/t/o/<token>`` appended (``TRACK_CLICKS``, ``TRACK_OPENS``);
- ``read(purpose, token) -> payload``; ``url_for(purpose, payload)``;
- ``record(message, kind, **fields) -> Event``; ``is_bot(request) -> bool`` (known proxy and
  scanner user agents, HEAD requests and prefetch headers: flagged, not counted as people).
"""

import html
import re

from django.conf import settings
from django.core import signing

from channels.models import Event, Message

SALTS = {
    "click": "channels.click",
    "open": "channels.open",
    "unsubscribe": "channels.unsubscribe",
    "view": "channels.view",
}
PREFIX = {"click": "t/c", "open": "t/o", "unsubscribe": "u", "view": "v"}
HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(https?://[^"'<>\s]+)\2""", re.IGNORECASE)
BOT_AGENTS = (
    "googleimageproxy", "yahoomailproxy", "bingpreview", "barracuda", "mimecast", "proofpoint",
    "messagelabs", "symantec", "trendmicro", "forcepoint", "cisco", "facebookexternalhit",
    "slackbot", "linkedinbot", "twitterbot", "whatsapp", "headlesschrome", "python-requests",
    "curl/", "wget/", "go-http-client", "bot", "spider", "crawler", "preview",
)  # fmt: skip
PREFETCH_HEADERS = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


class BadToken(Exception):
    """The token does not verify (tampered, another purpose's, or an old key's)."""


def sign(purpose: str, payload) -> str:
    return signing.dumps(payload, salt=SALTS[purpose], compress=True)


def read(purpose: str, token: str):
    try:
        return signing.loads(token, salt=SALTS[purpose])
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise BadToken(str(exc)) from None


def url_for(purpose: str, payload) -> str:
    return f"{settings.SITE_URL}/{PREFIX[purpose]}/{sign(purpose, payload)}"


ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def attribute_url(value: str) -> str:
    """The URL an ``href`` value means: character references ending in ``;`` decoded, and
    only those (``&copy=1`` in a query string stays as written, as browsers read it)."""
    return ENTITY.sub(lambda m: html.unescape(m.group(0)), value)


def _rewrite_links(body: str, message_id: int) -> str:
    own = settings.SITE_URL + "/"

    def swap(match):
        url = attribute_url(match.group(3))
        if url.startswith(own):
            return match.group(0)
        token_url = url_for("click", {"m": message_id, "u": url})
        return f"{match.group(1)}{match.group(2)}{html.escape(token_url)}{match.group(2)}"

    return HREF.sub(swap, body)


def _pixel(body: str, message_id: int) -> str:
    img = (
        f'<img src="{html.escape(url_for("open", message_id))}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )
    at = body.lower().rfind("</body>")
    return body[:at] + img + body[at:] if at >= 0 else body + img


def track(parts: dict, message_id: int | None) -> dict:
    """The parts with tracked links and the pixel (email HTML only; nothing for proofs)."""
    body = parts.get("html")
    if message_id is None or not body:
        return parts
    if settings.TRACK_CLICKS:
        body = _rewrite_links(body, message_id)
    if settings.TRACK_OPENS:
        body = _pixel(body, message_id)
    return {**parts, "html": body}


def is_bot(request) -> bool:
    if request.method == "HEAD":
        return True
    agent = (request.META.get("HTTP_USER_AGENT") or "").lower()
    if not agent or any(word in agent for word in BOT_AGENTS):
        return True
    return any("prefetch" in (request.META.get(h) or "").lower() for h in PREFETCH_HEADERS)


def message_of(message_id) -> Message | None:
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1:
        return None
    return Message.objects.filter(pk=message_id).first()


def record(message: Message, kind: str, *, request=None, **fields) -> Event:
    agent = ""
    if request is not None:
        agent = (request.META.get("HTTP_USER_AGENT") or "")[:400].replace("\x00", "")
    return Event.objects.create(
        delivery_id=message.delivery_id, message=message, kind=kind, user_agent=agent, **fields
    )
