"""``GET campaigns/{id}/forecast/`` (issue 15): volumes per branch, the send load per channel and
hour over the next 7 days, and the warnings (``campaigns.forecast``). Thin: the module does it.

Reading needs ``campaigns.view_campaign``; when no recent test run of the definition exists, one
is started as the requesting user (that needs ``campaigns.run_campaign``; without it, or in a
state where test runs do not apply, the answer says so in ``notes`` and has no volumes)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import forecast
from campaigns.models import Campaign
from campaigns.openapi import DATETIME, TRANSITION_COUNT
from config.api.openapi import component

INT_LIST = {"type": "array", "items": {"type": "integer"}}
WARNING = component(
    "ForecastWarning",
    {
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "enum": ["throttle_window", "hourly_limit", "frequency_cap", "no_launch"],
            },
            "message": {"type": "string"},
            "activity": {"type": "string", "nullable": True},
            "channel": {"type": "string", "nullable": True},
        },
        "required": ["code", "message"],
    },
)
WARNINGS = {"type": "array", "items": WARNING, "description": "What may go wrong (issue 15)."}
FORECAST = component(
    "Forecast",
    {
        "type": "object",
        "properties": {
            "campaign": {"type": "integer"},
            "generated_at": DATETIME,
            "run": {
                "type": "object",
                "nullable": True,
                "description": "The test run the volumes come from (fresh: started by this call).",
                "properties": {
                    "id": {"type": "integer"},
                    "status": {"type": "string"},
                    "created_at": DATETIME,
                    "finished": {"type": "boolean"},
                    "fresh": {"type": "boolean"},
                },
            },
            "volumes": {
                "type": "array",
                "description": "Every transition with its count in that run (null: nothing).",
                "items": TRANSITION_COUNT,
            },
            "channels": {
                "type": "array",
                "description": "Each channel activity: recipients and sending options.",
                "items": {
                    "type": "object",
                    "properties": {
                        "activity": {"type": "string"},
                        "channel": {"type": "string"},
                        "category": {"type": "string"},
                        "targeted": {"type": "integer", "nullable": True},
                        "staged": {"type": "integer", "nullable": True},
                        "excluded": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                        "throttle_per_second": {"type": "integer", "nullable": True},
                        "validity_hours": {"type": "integer"},
                        "delivery": {"type": "integer", "nullable": True},
                    },
                },
            },
            "launches": {
                "type": "array",
                "items": DATETIME,
                "description": "This campaign's launches in the next 7 days (UTC).",
            },
            "hours": {
                "type": "array",
                "items": DATETIME,
                "description": "The 168 hours of the load, from the current hour (UTC).",
            },
            "load": {
                "type": "array",
                "description": "Per channel: messages per hour (aligned with hours).",
                "items": {
                    "type": "object",
                    "properties": {
                        "channel": {"type": "string"},
                        "hourly_limit": {"type": "integer", "nullable": True},
                        "campaign": INT_LIST,
                        "others": INT_LIST,
                        "total": INT_LIST,
                        "campaign_messages": {"type": "integer"},
                        "other_messages": {"type": "integer"},
                        "peak": {"type": "integer"},
                        "peak_at": DATETIME,
                    },
                },
            },
            "warnings": WARNINGS,
            "notes": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["campaign", "volumes", "load", "warnings", "notes"],
    },
)


class ForecastView(APIView):
    """GET: the forecast of the campaign (module docstring)."""

    queryset = Campaign.objects.all()
    permission_labels = {"get": "Reading a forecast"}

    @extend_schema(
        responses={200: FORECAST},
        operation_id="campaigns_forecast_retrieve",
        description="Volumes per branch from the latest test run of this definition (a fresh one "
        "is started when none is recent: ask again when it has finished), the messages per "
        "channel and hour over the next 7 days, this campaign's stacked with every live "
        "campaign's, and the warnings that publish/ repeats.",
    )
    def get(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        return Response(forecast.build(campaign, user=request.user))
