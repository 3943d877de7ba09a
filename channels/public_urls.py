"""The public endpoints (``channels.public``), mounted at the site's root."""

from django.conf import settings
from django.urls import include, path, re_path

from channels import public
from channels.config import ALIASES

TOKEN = r"(?P<token>[A-Za-z0-9_:.\-]{1,4000})"

urlpatterns = [
    re_path(rf"^t/o/{TOKEN}$", public.OpenPixel.as_view(), name="track-open"),
    re_path(rf"^t/c/{TOKEN}$", public.Click.as_view(), name="track-click"),
    re_path(rf"^u/{TOKEN}$", public.Unsubscribe.as_view(), name="unsubscribe"),
    re_path(rf"^v/{TOKEN}$", public.ViewInBrowser.as_view(), name="view-in-browser"),
    re_path(
        r"^hooks/(?P<provider>[a-z0-9_-]{1,40})/$", public.Hook.as_view(), name="provider-hook"
    ),
]
if settings.CHANNEL_PROVIDERS["email"].get("BACKEND") == ALIASES["anymail"]:
    # anymail's normalized tracking webhooks (``/hooks/anymail/<esp>/tracking/``, authenticated
    # by ANYMAIL's WEBHOOK_SECRET), only where that backend sends (``channels.receivers``)
    urlpatterns.append(path("hooks/anymail/", include("anymail.urls")))
