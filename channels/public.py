"""The public endpoints (design 6), outside ``/api/``, without a session: each is authenticated
by its signed token (``channels.tracking``, one salt per purpose) or by the shared secret.

- ``/t/o/<token>``: the open pixel (a 1x1 GIF; a bad token gets 404 and no event);
- ``/t/c/<token>``: the click: 302 to exactly the URL the project rendered; a bad token 404,
  with no ``Location``: no open redirect;
- ``/u/<token>``: GET a confirmation page; POST opts out (RFC 8058 one-click: the body
  ``List-Unsubscribe=One-Click``, or the page's button), without login or CSRF token;
- ``/v/<token>``: the message in a browser, rendered again for its recipient (sandboxed);
- ``/hooks/<provider>/``: provider events as JSON (``channels.feedback``), with the secret in
  ``X-Webhook-Secret`` (or ``?secret=``): a wrong or missing one gets 403.
"""

import base64
import hmac
import json

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from channels import feedback, tracking
from channels.models import EventKind
from config.api.openapi import DETAIL, ERRORS
from config.api.parsers import FormParser, MultiPartParser
from config.errors import ValidationFailed

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, private"
NOT_VALID = OpenApiResponse(description="The token does not verify: nothing happens.")
PAGE = {(200, "text/html"): OpenApiResponse(str, description="A page for the recipient.")}
TAGS = ["public"]


def _message(purpose, token):
    try:
        payload = tracking.read(purpose, token)
    except tracking.BadToken:
        return None, None
    message_id = payload.get("m") if isinstance(payload, dict) else payload
    return tracking.message_of(message_id), payload


def _not_found(text="This link is not valid."):
    return HttpResponse(text, status=404, content_type="text/plain; charset=utf-8")


class AnyAccept(DefaultContentNegotiation):
    """These views answer GIFs, pages and redirects themselves: any ``Accept`` will do (an
    ``image/*`` pixel request must not get DRF's 406)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Public(APIView):
    """No session, no token: the signed token in the path (or the shared secret) is the
    authentication; never a CSRF check (mail clients POST one-click unsubscribes)."""

    content_negotiation_class = AnyAccept
    authentication_classes = ()
    permission_classes = (AllowAny,)
    http_method_names = ["get", "head"]


class OpenPixel(Public):
    """The open pixel: records an open (flagged when a proxy or prefetch fetched it)."""

    @extend_schema(
        operation_id="track_open", tags=TAGS, summary="Open pixel (records an open)",
        responses={(200, "image/gif"): OpenApiResponse(str, description="A 1x1 GIF."),
                   (404, "text/plain"): NOT_VALID},
    )  # fmt: skip
    def get(self, request, token):
        message, _payload = _message("open", token)
        if message is None:
            return _not_found()
        tracking.record(message, EventKind.OPEN, bot=tracking.is_bot(request), request=request)
        response = HttpResponse(GIF, content_type="image/gif")
        response["Cache-Control"] = NO_STORE
        return response


class Click(Public):
    """A tracked link: records a click and redirects to the URL the message was rendered with."""

    @extend_schema(
        operation_id="track_click", tags=TAGS, summary="Tracked link (records a click)",
        responses={302: OpenApiResponse(description="To exactly the URL the message had."),
                   (404, "text/plain"): NOT_VALID},
    )  # fmt: skip
    def get(self, request, token):
        message, payload = _message("click", token)
        url = payload.get("u") if isinstance(payload, dict) else None
        if (
            message is None
            or not isinstance(url, str)
            or not url.startswith(("http://", "https://"))
        ):
            return _not_found()
        bot = tracking.is_bot(request)
        tracking.record(message, EventKind.CLICK, bot=bot, url=url, request=request)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = NO_STORE
        response["Referrer-Policy"] = "no-referrer"
        return response


def _one_click(request) -> bool:
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return True
    return request.POST.get("confirm") == "yes"


UNSUBSCRIBE_BODY = {
    "type": "object",
    "properties": {
        "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
        "confirm": {"type": "string", "enum": ["yes"]},
    },
}


class Unsubscribe(Public):
    """Unsubscribe from the channel's marketing: GET asks, POST (RFC 8058 one-click) opts out."""

    http_method_names = ["get", "head", "post"]
    parser_classes = (FormParser, MultiPartParser)

    def _context(self, message):
        delivery = message.delivery
        return {"channel": delivery.get_channel_display(), "brand": delivery.campaign_name}

    @extend_schema(
        operation_id="unsubscribe_page", tags=TAGS, summary="Unsubscribe confirmation page",
        responses={**PAGE, (404, "text/html"): NOT_VALID},
    )  # fmt: skip
    def get(self, request, token):
        message, _payload = _message("unsubscribe", token)
        if message is None:
            return render(request, "channels/unsubscribe.html", {"invalid": True}, status=404)
        return render(request, "channels/unsubscribe.html", {**self._context(message), "ask": True})

    @extend_schema(
        operation_id="unsubscribe", tags=TAGS,
        summary="Opt out (RFC 8058 one-click: List-Unsubscribe=One-Click)",
        request={"application/x-www-form-urlencoded": UNSUBSCRIBE_BODY,
                 "multipart/form-data": UNSUBSCRIBE_BODY},
        responses={**PAGE, (400, "text/html"): OpenApiResponse(str, description="Not confirmed."),
                   (404, "text/html"): NOT_VALID},
    )  # fmt: skip
    def post(self, request, token):
        message, _payload = _message("unsubscribe", token)
        if message is None:
            return render(request, "channels/unsubscribe.html", {"invalid": True}, status=404)
        context = self._context(message)
        if not _one_click(request):
            return render(
                request, "channels/unsubscribe.html", {**context, "ask": True}, status=400
            )
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        source = "one-click unsubscribe (RFC 8058)" if one_click else "unsubscribe page"
        feedback.unsubscribe(message, source=source)
        return render(request, "channels/unsubscribe.html", {**context, "done": True})


class ViewInBrowser(Public):
    """The message in a browser (``message.view_url``), rendered again for its recipient."""

    @extend_schema(
        operation_id="view_in_browser", tags=TAGS, summary="The message in a browser",
        responses={**PAGE, (404, "text/plain"): NOT_VALID},
    )  # fmt: skip
    def get(self, request, token):
        from channels import services

        message, _payload = _message("view", token)
        if message is None:
            return _not_found()
        delivery = message.delivery
        parts = services.render_for(delivery, message.key, message.address, message_id=message.pk)
        if "error" in parts:
            body = "This message cannot be shown."
        else:
            body = parts.get("html") or f"<pre>{parts.get('text') or parts.get('body') or ''}</pre>"
        response = HttpResponse(body)
        response["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
        )
        response["Cache-Control"] = NO_STORE
        return response


def _secret_ok(request) -> bool:
    expected = settings.WEBHOOK_SECRET
    given = request.headers.get("X-Webhook-Secret") or request.GET.get("secret") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


HOOK_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": list(feedback.KINDS)},
        "message_id": {"type": "string", "description": "Our Message-ID or the provider's id."},
        "recipient": {"type": "string"},
        "channel": {"type": "string", "enum": ["email", "sms", "push"]},
        "bounce_type": {"type": "string", "enum": ["hard", "soft"]},
        "from": {"type": "string", "description": "inbound: the sender's number"},
        "text": {"type": "string", "description": "inbound: the reply (STOP...)"},
        "url": {"type": "string"},
    },
    "required": ["event"],
}
HOOK_BODY = {
    "oneOf": [
        HOOK_EVENT,
        {"type": "object", "properties": {"events": {"type": "array", "items": HOOK_EVENT}},
         "required": ["events"]},
    ]
}  # fmt: skip
HOOK_ANSWER = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "outcomes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["accepted", "outcomes"],
}


class Hook(Public):
    """Provider events (generic JSON), authenticated by the shared ``WEBHOOK_SECRET``."""

    http_method_names = ["post"]
    parser_classes = ()

    @extend_schema(
        operation_id="provider_hook", tags=TAGS,
        summary="Provider delivery events (bounce, complaint, delivered, inbound SMS)",
        parameters=[OpenApiParameter("X-Webhook-Secret", str, OpenApiParameter.HEADER,
                                     description="The WEBHOOK_SECRET setting.")],
        request={"application/json": HOOK_BODY},
        responses={200: HOOK_ANSWER, 400: ERRORS, 403: DETAIL},
    )  # fmt: skip
    def post(self, request, provider):
        if not _secret_ok(request):
            return JsonResponse({"detail": "wrong or missing webhook secret"}, status=403)
        try:
            events = feedback.parse(json.loads(request.body or b"null"))
        except (ValueError, RecursionError):
            return JsonResponse({"errors": [{"path": "", "message": "not JSON"}]}, status=400)
        except ValidationFailed as exc:
            return JsonResponse({"errors": exc.errors}, status=400)
        outcomes = [feedback.apply(provider, event) for event in events]
        return JsonResponse({"accepted": len(outcomes), "outcomes": outcomes})
