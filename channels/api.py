"""``deliveries/`` and ``deliveries/{id}/`` (design 6): per channel activity and run, targeted,
excluded by reason, sent, failed, unknown, expired, with live progress while sending (counts and
percent), then delivered, bounced, unique opens and clicks, unsubscribed, the rates and the
control-group uplift (``channels.reports.report``: one query per page). Filters: ``?run=``,
``?campaign=``, ``?activity=``, ``?status=``. The rendered samples (personal data) are shown only
to holders of ``audiences.view_records``. ``POST deliveries/{id}/uplift/`` recomputes the uplift
on the goal; ``GET deliveries/campaign/?campaign=`` the campaign's report (each live delivery
and the totals)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from channels import reports, uplift
from channels.models import Delivery, DeliveryStatus
from config.access import allowed
from config.api.openapi import ERRORS, Page
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
        "delivered": COUNT,
        "bounced": COUNT,
        "complained": COUNT,
        "opened": {**COUNT, "description": "Unique opens by people (bots apart)."},
        "bot_opens": {**COUNT, "description": "Messages opened by a proxy or prefetch."},
        "opens": COUNT,
        "clicked": {**COUNT, "description": "Unique clicks by people."},
        "clicks": COUNT,
        "unsubscribed": COUNT,
        "rates": {
            "type": "object",
            "description": "Percentages: delivered and bounced of sent; opened, clicked and "
            "unsubscribed of delivered (of sent when no delivery receipts); click_to_open.",
            "additionalProperties": {"type": "number", "nullable": True},
        },
        "uplift": {"type": "object", "nullable": True, "additionalProperties": True},
        "control_group": {"type": "object", "nullable": True, "additionalProperties": True},
        "goal": {"type": "object", "nullable": True, "additionalProperties": True},
        "throttle_per_second": {"type": "integer", "nullable": True},
        "note": {"type": "string"},
        "staged_at": {"type": "string", "format": "date-time", "nullable": True},
        "expires_at": {"type": "string", "format": "date-time", "nullable": True},
        "started_at": {"type": "string", "format": "date-time", "nullable": True},
        "finished_at": {"type": "string", "format": "date-time", "nullable": True},
        "samples": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    },
}


UPLIFT = {
    "type": "object",
    "description": "Goal rates of the sent and control groups; uplift = sent_rate - "
    "control_rate with its 95% interval (ci_low, ci_high), relative uplift, z and p-value.",
    "additionalProperties": True,
}
CAMPAIGN = {
    "type": "object",
    "properties": {
        "campaign": COUNT,
        "deliveries": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "totals": {"type": "object", "additionalProperties": COUNT},
    },
}
PAGE = Page(DELIVERY)


def delivery_data(delivery, user=None, samples=False, figures=None) -> dict:
    figures = figures if figures is not None else reports.report([delivery])[delivery.pk]
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
        **figures,
        "control_group": delivery.control_group,
        "goal": delivery.goal,
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
        figures = reports.report(page)
        return paginator.get_paginated_response(
            [delivery_data(d, figures=figures[d.pk]) for d in page]
        )

    @extend_schema(responses={200: DELIVERY})
    def retrieve(self, request, pk=None):
        delivery = get_object_or_404(Delivery, pk=pk)
        return Response(delivery_data(delivery, request.user, samples=True))

    @extend_schema(
        operation_id="deliveries_uplift", request=None, responses={200: UPLIFT, 400: ERRORS}
    )
    @action(detail=True, methods=["post"])
    def uplift(self, request, pk=None):
        delivery = get_object_or_404(Delivery, pk=pk)
        return Response(uplift.compute(delivery))

    @extend_schema(
        operation_id="deliveries_campaign",
        parameters=[OpenApiParameter("campaign", int, required=True)],
        responses={200: CAMPAIGN, 400: ERRORS},
    )
    @action(detail=False, methods=["get"])
    def campaign(self, request):
        campaign = _int(request, "campaign")
        if campaign is None:
            raise ValidationFailed([{"path": "campaign", "message": "a campaign id is required"}])
        found = reports.campaign_report(campaign)
        rows = [
            {"id": r["delivery"].pk, "activity": r["delivery"].activity_key,
             "channel": r["delivery"].channel, "run": r["delivery"].run_id,
             **{k: v for k, v in r.items() if k != "delivery"}}
            for r in found["deliveries"]
        ]  # fmt: skip
        return Response({"campaign": campaign, "deliveries": rows, "totals": found["totals"]})
