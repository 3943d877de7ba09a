"""``deliveries/`` and ``deliveries/{id}/`` (design 6): per channel activity and run, targeted,
excluded by reason, sent, failed, unknown, expired, with live progress while sending (counts and
percent). Filters: ``?run=``, ``?campaign=``, ``?activity=``, ``?status=``. The rendered samples
(personal data) are shown only to holders of ``audiences.view_records``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from channels import reports
from channels.models import Delivery, DeliveryStatus
from config.access import allowed
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination
from config.errors import ValidationFailed

COUNT = {"type": "integer"}
DELIVERY = {
    "type": "object",
    "properties": {
        "id": COUNT,
        "channel": {"type": "string", "enum": ["email", "sms", "push"]},
        "category": {"type": "string"},
        "test": {"type": "boolean"},
        "status": {"type": "string", "enum": list(DeliveryStatus.values)},
        "campaign": {"type": "integer", "nullable": True},
        "campaign_name": {"type": "string"},
        "run": {"type": "integer", "nullable": True},
        "activity": {"type": "string"},
        "targeted": COUNT,
        "excluded": {"type": "object", "additionalProperties": COUNT},
        "excluded_total": COUNT,
        "staged": COUNT,
        "queued": COUNT,
        "sending": COUNT,
        "sent": COUNT,
        "failed": COUNT,
        "unknown": COUNT,
        "expired": COUNT,
        "cancelled": COUNT,
        "percent": {"type": "number"},
        "throttle_per_second": {"type": "integer", "nullable": True},
        "note": {"type": "string"},
        "staged_at": {"type": "string", "format": "date-time", "nullable": True},
        "expires_at": {"type": "string", "format": "date-time", "nullable": True},
        "started_at": {"type": "string", "format": "date-time", "nullable": True},
        "finished_at": {"type": "string", "format": "date-time", "nullable": True},
        "samples": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    },
}


PAGE = Page(DELIVERY)


def delivery_data(delivery, user=None, samples=False) -> dict:
    data = {
        "id": delivery.pk,
        "channel": delivery.channel,
        "category": delivery.category,
        "test": delivery.test,
        "status": delivery.status,
        "campaign": delivery.campaign_id,
        "campaign_name": delivery.campaign_name,
        "run": delivery.run_id,
        "activity": delivery.activity_key,
        **reports.counts(delivery),
        "throttle_per_second": delivery.throttle_per_second,
        "note": delivery.note,
        "staged_at": delivery.staged_at,
        "expires_at": delivery.expires_at,
        "started_at": delivery.started_at,
        "finished_at": delivery.finished_at,
    }
    if samples and allowed(user, "audiences.view_records"):
        data["samples"] = delivery.samples
    return data


def _int(request, name):
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise ValidationFailed([{"path": name, "message": "must be a positive integer"}])
    return int(value)


FILTERS = [
    OpenApiParameter("run", int, required=False),
    OpenApiParameter("campaign", int, required=False),
    OpenApiParameter("activity", str, required=False),
    OpenApiParameter("status", str, required=False, enum=list(DeliveryStatus.values)),
]


class DeliveryViewSet(viewsets.ViewSet):
    """Deliveries, newest first, with their counts and progress."""

    queryset = Delivery.objects.all()
    lookup_value_regex = r"\d+"

    @extend_schema(operation_id="deliveries_list", parameters=FILTERS, responses={200: PAGE})
    def list(self, request):
        found = Delivery.objects.all()
        for name in ("run", "campaign"):
            value = _int(request, name)
            if value is not None:
                found = found.filter(**{f"{name}_id": value})
        activity = request.query_params.get("activity")
        if activity:
            found = found.filter(activity_key=activity[:40])
        status = request.query_params.get("status")
        if status:
            if status not in DeliveryStatus.values:
                choices = ", ".join(DeliveryStatus.values)
                raise ValidationFailed([{"path": "status", "message": f"one of {choices}"}])
            found = found.filter(status=status)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(found, request, view=self)
        return paginator.get_paginated_response([delivery_data(d) for d in page])

    @extend_schema(responses={200: DELIVERY})
    def retrieve(self, request, pk=None):
        delivery = get_object_or_404(Delivery, pk=pk)
        return Response(delivery_data(delivery, request.user, samples=True))
