"""The error format of design 5.0, produced in one place for every endpoint.

Services raise the domain errors of ``config.errors``; this module maps them to HTTP:

- 400 ``{"errors": [{"path": "activities[2].where.and[1].field", "message": "..."}]}``:
  ``ValidationFailed(errors)``; DRF serializer errors (``ValidationError``) and unparseable bodies
  (``ParseError``) are converted to the same shape. Paths use ``.key`` for object members and
  ``[n]`` for list items; errors about the whole document have the path ``""``.
- 403 ``{"detail": "Publishing needs campaigns.publish_campaign"}``: ``Forbidden``.
- 404 ``{"detail": "..."}``: ``NotFound``.
- 409 ``{"detail": "..."}``: ``Conflict``.
- 429 ``{"detail": "..."}``: ``TooSoon(message, wait=seconds)`` (sets ``Retry-After``).
- 401 / 403 / 404 / 405 ``{"detail": "..."}``: DRF's own, with the permission classes' messages.
- 400 at the path ``""`` for a value the database refuses (``django.db.DataError``: a string too
  long for its column, a number out of range, a NUL character; a lone surrogate that cannot be
  encoded): the last line of defence behind the checks at their paths (``config.inputs``,
  ``config.api.parsers``), logged as a warning so the missing check gets written.
- 500 ``{"detail": "Internal error"}``: any other exception in an API view is logged with its
  traceback and answered in JSON, never with an HTML page. ``page_not_found`` and ``server_error``
  (the root URLconf's ``handler404`` / ``handler500``) do the same for ``/api/`` paths outside DRF.
"""

import logging

from django import db, http
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config import errors as domain

logger = logging.getLogger("config.api")

INTERNAL_ERROR = "Internal error"


def _is_error_list(value):
    return isinstance(value, list) and all(
        isinstance(e, dict) and set(e) == {"path", "message"} for e in value
    )


def _join(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = "" if key == "non_field_errors" else str(key)
    if path and key:
        return f"{path}.{key}"
    return path or key


def flatten(detail, path=""):
    """DRF's nested error detail to ``[{"path", "message"}]`` with design 5.0 paths.

    Dicts are object members (``a.b``), except integer keys, which ``ListField`` uses for list
    items (``a[3]``); lists of dicts or lists are list items; lists of strings are messages for
    ``path``. ``{"errors": [{"path", "message"}, ...]}`` passes through unchanged (prefixed).
    """
    if isinstance(detail, dict):
        if set(detail) == {"errors"} and _is_error_list(detail["errors"]):
            return [
                {"path": _join(path, e["path"]) if e["path"] else path, "message": e["message"]}
                for e in detail["errors"]
            ]
        out = []
        for key, value in detail.items():
            out += flatten(value, _join(path, key))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"path": path, "message": str(item)} for item in detail]
        out = []
        for index, value in enumerate(detail):
            out += flatten(value, f"{path}[{index}]")
        return out
    return [{"path": path, "message": str(detail)}]


def _bad_request(errors):
    set_rollback()
    return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)


DOMAIN_STATUS = {
    domain.Forbidden: status.HTTP_403_FORBIDDEN,
    domain.NotFound: status.HTTP_404_NOT_FOUND,
    domain.Conflict: status.HTTP_409_CONFLICT,
    domain.TooSoon: status.HTTP_429_TOO_MANY_REQUESTS,
}


def _domain_response(exc):
    set_rollback()
    code = next(c for kind, c in DOMAIN_STATUS.items() if isinstance(exc, kind))
    response = Response({"detail": exc.message}, status=code)
    if isinstance(exc, domain.TooSoon) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait))
    return response


def _unstorable(exc):
    if isinstance(exc, db.DataError):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "a value cannot be stored"
    if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
        return "a string is not valid Unicode text (a lone surrogate)"
    return None


def _unstorable_response(exc, context, reason):
    view = context.get("view")
    logger.warning(
        "Unchecked value reached the database in %s: %s",
        type(view).__name__ if view else "API view",
        reason,
    )
    return _bad_request([{"path": "", "message": f"a value cannot be stored: {reason}"}])


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every API error in the design 5.0 format (module docstring)."""
    reason = _unstorable(exc)
    if reason:
        return _unstorable_response(exc, context, reason)
    if isinstance(exc, domain.ValidationFailed):
        return _bad_request(exc.errors)
    if isinstance(exc, tuple(DOMAIN_STATUS)):
        return _domain_response(exc)
    if isinstance(exc, exceptions.ValidationError):
        return _bad_request(flatten(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return _bad_request([{"path": "", "message": str(exc.detail)}])
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    view = context.get("view")
    logger.error(
        "Unexpected error in %s", type(view).__name__ if view else "API view", exc_info=exc
    )
    set_rollback()
    return Response({"detail": INTERNAL_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _is_api(request):
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    """``handler404``: JSON under ``/api/``, Django's page elsewhere."""
    if _is_api(request):
        return http.JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: JSON under ``/api/`` (errors outside DRF views), Django's page elsewhere."""
    if _is_api(request):
        return http.JsonResponse({"detail": INTERNAL_ERROR}, status=500)
    return defaults.server_error(request)
