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
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels import feedback, tracking
from channels.models import EventKind
from config.errors import ValidationFailed

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, private"


def _message(purpose, token):
    try:
        payload = tracking.read(purpose, token)
    except tracking.BadToken:
        return None, None
    message_id = payload.get("m") if isinstance(payload, dict) else payload
    return tracking.message_of(message_id), payload


def _not_found(text="This link is not valid."):
    return HttpResponse(text, status=404, content_type="text/plain; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token):
    message, _payload = _message("open", token)
    if message is None:
        return _not_found()
    tracking.record(message, EventKind.OPEN, bot=tracking.is_bot(request), request=request)
    response = HttpResponse(GIF, content_type="image/gif")
    response["Cache-Control"] = NO_STORE
    return response


@require_http_methods(["GET", "HEAD"])
def click(request, token):
    message, payload = _message("click", token)
    url = payload.get("u") if isinstance(payload, dict) else None
    if message is None or not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _not_found()
    tracking.record(
        message, EventKind.CLICK, bot=tracking.is_bot(request), url=url, request=request
    )
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


def _one_click(request) -> bool:
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return True
    return request.POST.get("confirm") == "yes"


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    message, _payload = _message("unsubscribe", token)
    if message is None:
        return render(request, "channels/unsubscribe.html", {"invalid": True}, status=404)
    delivery = message.delivery
    context = {"channel": delivery.get_channel_display(), "brand": delivery.campaign_name}
    if request.method == "POST":
        if not _one_click(request):
            return render(
                request, "channels/unsubscribe.html", {**context, "ask": True}, status=400
            )
        source = "one-click unsubscribe (RFC 8058)" if "List-Unsubscribe" in request.POST else (
            "unsubscribe page"
        )  # fmt: skip
        feedback.unsubscribe(message, source=source)
        return render(request, "channels/unsubscribe.html", {**context, "done": True})
    return render(request, "channels/unsubscribe.html", {**context, "ask": True})


@require_http_methods(["GET", "HEAD"])
def view_in_browser(request, token):
    from channels import services

    message, _payload = _message("view", token)
    if message is None:
        return _not_found()
    parts = services.render_for(
        message.delivery, message.key, message.address, message_id=message.pk
    )
    body = parts.get("html") or f"<pre>{parts.get('text') or parts.get('body') or ''}</pre>"
    response = HttpResponse(body if "error" not in parts else "This message cannot be shown.")
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
    )
    response["Cache-Control"] = NO_STORE
    return response


def _secret_ok(request) -> bool:
    expected = settings.WEBHOOK_SECRET
    given = request.headers.get("X-Webhook-Secret") or request.GET.get("secret") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@csrf_exempt
@require_http_methods(["POST"])
def hook(request, provider):
    if not _secret_ok(request):
        return JsonResponse({"detail": "wrong or missing webhook secret"}, status=403)
    try:
        body = json.loads(request.body or b"null")
        events = feedback.parse(body)
    except (ValueError, RecursionError):
        return JsonResponse({"errors": [{"path": "", "message": "not JSON"}]}, status=400)
    except ValidationFailed as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    outcomes = [feedback.apply(provider, event) for event in events]
    return JsonResponse({"accepted": len(outcomes), "outcomes": outcomes})
