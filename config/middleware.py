"""Page-level guards shared by the admin, the API and public pages.

- ``DomainErrorsMiddleware``: domain errors that escape a page view (the admin, public pages)
  become the page a person expects instead of a 500: ``Forbidden`` the 403 page, ``NotFound`` the
  404 page. The API maps them itself (``config.api.errors``); an admin view that can say more
  catches them and shows a message instead.
- ``UnsafeInputMiddleware``: a query-string parameter (``?where=``, ``?status=``...) or a value
  taken from the URL (``schemas/<name>/``) holding what PostgreSQL can never store (a NUL
  character; ``config.inputs.text_error``) is refused before any view runs: 400
  ``{"errors": [{"path": "<parameter>", "message"}]}`` under ``/api/``, a plain 400 page
  elsewhere. Bodies are checked by the API's parsers (``config.api.parsers``).
- ``UserTimeZoneMiddleware``: pages show dates in the user's time zone, which the admin's pages
  tell the server in the cookie ``tz`` (the browser's IANA name, ``config/templates/admin/
  base_site.html``); without it, or with a name that is not a time zone, the ``TIME_ZONE``
  setting. The API (``/api/``) is left alone: its date-times do not depend on who asks.
"""

import zoneinfo

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.utils import timezone
from django.views import defaults

from config.errors import Forbidden, NotFound
from config.inputs import multi_value_errors, text_error


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


def input_errors(query, url_kwargs) -> list[dict]:
    """The query parameters and URL values ``text_error`` refuses, by parameter name."""
    errors = multi_value_errors(query, "query parameter")
    for name, value in url_kwargs.items():
        problem = text_error(value) if isinstance(value, str) else None
        if problem:
            errors.append({"path": name, "message": problem})
    return errors


class UnsafeInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        errors = input_errors(request.GET, view_kwargs)
        if not errors:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"errors": errors}, status=400)
        return HttpResponseBadRequest(
            "; ".join(f"{e['path']}: {e['message']}" for e in errors), content_type="text/plain"
        )


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
