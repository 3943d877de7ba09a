"""``audit/`` (issue 14, design 6): the audit trail, newest first, read-only, filterable by
object (``content_type`` as ``app_label.model`` with ``object_id``), ``user`` (a username),
``action`` (``add``, ``change``, ``delete``, or an event such as ``publish``, ``approve``,
``roles_changed``) and time (``since`` inclusive, ``until`` exclusive, ISO 8601). Needs
``admin.view_logentry``; nothing here writes (``config.audit``)."""

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets

from config import audit
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination
from config.errors import ValidationFailed

NULLABLE = {"nullable": True}
ENTRY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "user": {"type": "string", "description": "Who (the first superuser when by is system)."},
        "by": {"type": "string", "enum": ["user", "system"]},
        "action": {"type": "string", "enum": list(audit.ACTIONS)},
        "event": {"type": "string", "description": "publish, approve, reject, import..."},
        "content_type": {"type": "string", **NULLABLE},
        "object_id": {"type": "string", **NULLABLE},
        "object_repr": {"type": "string"},
        "message": {"type": "string"},
        "before": {**NULLABLE, "description": "The values before, where that makes sense."},
        "after": {**NULLABLE, "description": "The values after."},
        "details": {**NULLABLE},
    },
}
PAGE = Page(ENTRY)


def _model(value):
    app_label, _, model = (value or "").partition(".")
    found = ContentType.objects.filter(app_label=app_label, model=model.lower()).first()
    if found is None or found.model_class() is None:
        raise ValidationFailed([{"path": "content_type", "message": f"no model {value!r}"}])
    return found.model_class()


def _user(value):
    found = get_user_model().objects.filter(username=value).first()
    if found is None:
        raise ValidationFailed([{"path": "user", "message": f"no user named {value!r}"}])
    return found


def _time(params, name):
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed([{"path": name, "message": "an ISO 8601 date and time"}])
    return parsed


def filtered(params):
    """The entries that the query ``params`` ask for (module docstring)."""
    model = _model(params["content_type"]) if params.get("content_type") else None
    qs = audit.entries(
        model=model,
        user=_user(params["user"]) if params.get("user") else None,
        action=params.get("action") or None,
        since=_time(params, "since"),
        until=_time(params, "until"),
    )
    if params.get("object_id"):
        if model is None:
            raise ValidationFailed([{"path": "object_id", "message": "needs content_type"}])
        qs = qs.filter(object_id=params["object_id"])
    return qs


PARAMETERS = [
    OpenApiParameter("content_type", str, description="app_label.model, e.g. campaigns.campaign"),
    OpenApiParameter("object_id", str, description="One object of content_type."),
    OpenApiParameter("user", str, description="A username."),
    OpenApiParameter("action", str, description="add, change, delete, or an event (publish...)."),
    OpenApiParameter("since", str, description="ISO 8601; entries at or after it."),
    OpenApiParameter("until", str, description="ISO 8601; entries before it."),
]


class AuditViewSet(viewsets.ViewSet):
    """The audit trail (read-only)."""

    queryset = LogEntry.objects.all()  # admin.view_logentry

    @extend_schema(parameters=PARAMETERS, responses={200: PAGE})
    def list(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(filtered(request.query_params), request, view=self)
        return paginator.get_paginated_response([audit.describe(e) for e in page])
