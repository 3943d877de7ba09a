"""The error format of design 5.0, produced in one place for every endpoint.

- 400 ``{"errors": [{"path": "activities[2].where.and[1].field", "message": "..."}]}``: raise
  ``ValidationFailed(errors)``; DRF serializer errors are converted to the same shape.
- 409 ``{"detail": "..."}``: raise ``Conflict("...")``.
- 403 ``{"detail": "... needs app.codename"}``: from the permission classes.
"""

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ValidationFailed(exceptions.APIException):
    """A malformed document: a list of ``{"path", "message"}``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid input."

    def __init__(self, errors):
        self.errors = [dict(error) for error in errors]
        super().__init__(detail="; ".join(f"{e['path']}: {e['message']}" for e in self.errors))


class Conflict(exceptions.APIException):
    """An action in a state where it does not apply."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This action does not apply in the current state."


class TooSoon(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many requests."


def flatten(detail, path=""):
    """DRF's nested error detail to ``[{"path", "message"}]`` with design 5.0 paths."""
    if isinstance(detail, dict):
        if set(detail) == {"errors"} and isinstance(detail["errors"], list):
            return [dict(e) for e in detail["errors"]]
        out = []
        for key, value in detail.items():
            key = "" if key == "non_field_errors" else str(key)
            out += flatten(value, f"{path}.{key}" if path and key else path or key)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"path": path, "message": str(item)} for item in detail]
        out = []
        for index, value in enumerate(detail):
            out += flatten(value, f"{path}[{index}]")
        return out
    return [{"path": path, "message": str(detail)}]


def exception_handler(exc, context):
    if isinstance(exc, ValidationFailed):
        return Response({"errors": exc.errors}, status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return Response({"errors": flatten(exc.detail)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"errors": [{"path": "", "message": str(exc.detail)}]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)
