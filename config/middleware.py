"""``UserTimeZoneMiddleware``: pages show dates in the user's time zone, which the admin's pages
tell the server in the cookie ``tz`` (the browser's IANA name, ``config/templates/admin/
base_site.html``); without it, or with a name that is not a time zone, the ``TIME_ZONE`` setting.
The API (``/api/``) is left alone: its date-times do not depend on who asks.

``DomainErrorsMiddleware``: domain errors that escape a page view (the admin, public pages) become the page a person
expects instead of a 500: ``Forbidden`` the 403 page, ``NotFound`` the 404 page. The API maps
them itself (``config.api.errors``); an admin view that can say more catches them and shows a
message instead."""

import zoneinfo

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.views import defaults

from config.errors import Forbidden, NotFound


class DomainErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Forbidden):
            return defaults.permission_denied(request, PermissionDenied(str(exception)))
        if isinstance(exception, NotFound):
            return defaults.page_not_found(request, Http404(str(exception)))
        return None


TIME_ZONE_COOKIE = "tz"


def user_time_zone(name: str):
    """The ``ZoneInfo`` named ``name``, or None when it names no time zone."""
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = user_time_zone(request.COOKIES.get(TIME_ZONE_COOKIE, ""))
        if zone is None or request.path.startswith("/api/"):  # the API speaks UTC offsets as is
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
