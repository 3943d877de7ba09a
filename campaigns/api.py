"""REST endpoints for campaigns, their versions and lifecycle (design 6). Views only parse the
request and call ``campaigns.services``, which enforce the lifecycle table (``campaigns.lifecycle``:
403 naming the permission, 409 naming the state). Runs, tasks and kinds: ``campaigns.api_runs``."""

from datetime import UTC

import jsonpatch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import definitions, diffs, forecast, lifecycle, schedules, services
from campaigns.api_forecast import WARNINGS
from campaigns.api_runs import run_data
from campaigns.models import Campaign
from campaigns.openapi import (
    CAMPAIGN,
    DEFINITION,
    LAUNCH,
    LAUNCH_TIMES,
    RUN,
    VALIDATION,
    VARIABLES_BODY,
    VERSION,
    VERSION_DETAIL,
)
from campaigns.services import approvals
from campaigns.versions import latest_version, live_schedule
from config.api.openapi import TOO_SOON, Page, component
from config.api.pagination import PageNumberPagination
from config.api.requests import body_object
from config.errors import NotFound, ValidationFailed

AGAINST = "The version to compare with (default: the one before)."
PUBLISHED = component(
    "PublishedCampaign",
    {"allOf": [CAMPAIGN, {"type": "object", "properties": {"warnings": WARNINGS}}]},
)


def version_row(version, approved=()):
    return {
        "number": version.number,
        "created_at": version.created_at,
        "created_by": version.created_by.get_username() if version.created_by else None,
        "approved": version.pk in approved,
    }


def launch_times(campaign, times):
    """``[{"at": UTC, "local": in the campaign's time zone}]`` (design 11)."""
    tz = schedules.zone(live_schedule(campaign))
    return [
        {"at": t.astimezone(UTC).isoformat(), "local": t.astimezone(tz).isoformat()} for t in times
    ]


def launch_data(launch, tz):
    return {
        "scheduled_for": launch.scheduled_for,
        "local": launch.scheduled_for.astimezone(tz).isoformat(),
        "status": launch.status,
        "reason": launch.reason,
        "missed": launch.missed,
        "run": launch.run_id,
    }


def campaign_data(campaign, user=None):
    """The campaign as ``campaigns/{id}/`` shows it; ``actions``: what ``user`` may do now;
    ``next_launches``: the next five, in UTC and in the campaign's time zone."""
    version = latest_version(campaign)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "description": campaign.description,
        "status": campaign.status,
        "schedule": campaign.schedule,
        "next_launch_at": campaign.next_launch_at,
        "version": version.number if version else None,
        "revision_open": campaign.revision_opened_at is not None,
        "status_note": campaign.status_note,
        "changed_by": campaign.changed_by.get_username() if campaign.changed_by else None,
        "approval_tasks": list(approvals.waiting(campaign).values_list("pk", flat=True)),
        "actions": [a.name for a in lifecycle.available(campaign, user)] if user else [],
        "next_launches": launch_times(campaign, services.upcoming(campaign)),
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    }


def _variables(request):
    return body_object(request, ["variables"]).get("variables") or {}


class CampaignViewSet(viewsets.ViewSet):
    """Campaigns: create from a definition (design 5.4), read, replace while editable, lifecycle."""

    queryset = Campaign.objects.all()
    lookup_value_regex = r"\d+"
    pagination_class = PageNumberPagination

    def _get(self, pk):
        return get_object_or_404(Campaign, pk=pk)

    @extend_schema(responses={200: Page(CAMPAIGN)})
    def list(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(Campaign.objects.all(), request, view=self)
        return paginator.get_paginated_response([campaign_data(c, request.user) for c in page])

    @extend_schema(request={"application/json": DEFINITION}, responses={201: CAMPAIGN})
    def create(self, request):
        campaign = services.create_from_definition(document=request.data, user=request.user)
        return Response(campaign_data(campaign, request.user), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: CAMPAIGN})
    def retrieve(self, request, pk=None):
        return Response(campaign_data(self._get(pk), request.user))

    @extend_schema(request={"application/json": DEFINITION}, responses={200: CAMPAIGN})
    def update(self, request, pk=None):
        campaign = services.replace_definition(
            campaign=self._get(pk), document=request.data, user=request.user
        )
        return Response(campaign_data(campaign, request.user))

    @extend_schema(responses={200: DEFINITION})
    @action(detail=True, methods=["get"])
    def definition(self, request, pk=None):
        return Response(definitions.export(self._get(pk)))

    @extend_schema(responses={200: Page(VERSION)})
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        versions = (
            self._get(pk)
            .versions.filter(number__isnull=False)
            .select_related("created_by")
            .order_by("number")
        )
        approved = set(
            versions.filter(approval_tasks__decision="approved").values_list("pk", flat=True)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response([version_row(v, approved) for v in page])

    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=False, description=AGAINST)],
        responses={200: VERSION_DETAIL},
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version(self, request, pk=None, number=None):
        campaign = self._get(pk)
        version = get_object_or_404(campaign.versions, number=number)
        against = request.query_params.get("against")
        if against is not None and not against.isdigit():
            raise ValidationFailed([{"path": "against", "message": "a version number"}])
        other = int(against) if against is not None else int(number) - 1
        before = campaign.versions.filter(number=other).first()
        if against is not None and before is None:
            raise NotFound(f"no version {against}")
        old = before.definition if before else {}
        return Response(
            {
                "number": version.number,
                "definition": version.definition,
                "against": before.number if before else None,
                "diff": list(jsonpatch.make_patch(old, version.definition)),
                "changes": [c.as_dict() for c in diffs.changes(old or None, version.definition)],
            }
        )

    @extend_schema(responses={200: Page(LAUNCH, upcoming=LAUNCH_TIMES)})
    @action(detail=True, methods=["get"])
    def launches(self, request, pk=None):
        """Scheduled launches, newest first: launched (with the run) or skipped (with why);
        ``upcoming``: the next five."""
        campaign = self._get(pk)
        tz = schedules.zone(live_schedule(campaign))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(campaign.launches.all(), request, view=self)
        response = paginator.get_paginated_response([launch_data(launch, tz) for launch in page])
        response.data["upcoming"] = launch_times(campaign, services.upcoming(campaign))
        return response

    @extend_schema(request=None, responses={200: VALIDATION})
    @action(detail=True, methods=["get", "post"])
    def validate(self, request, pk=None):
        errors = services.validation_errors(self._get(pk))
        return Response({"valid": not errors, "errors": errors})

    @extend_schema(request={"application/json": VARIABLES_BODY}, responses={202: RUN})
    @action(detail=True, methods=["post"], url_path="test-run")
    def test_run(self, request, pk=None):
        run = services.test_run(
            campaign=self._get(pk), variables=_variables(request), user=request.user
        )
        return Response(run_data(run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request={"application/json": VARIABLES_BODY}, responses={202: RUN, 429: TOO_SOON}
    )
    @action(detail=True, methods=["post"])
    def trigger(self, request, pk=None):
        run = services.trigger(
            campaign=self._get(pk), variables=_variables(request), user=request.user
        )
        return Response(run_data(run), status=status.HTTP_202_ACCEPTED)

    def _lifecycle(self, request, pk, operation, code=status.HTTP_200_OK):
        result = operation(campaign=self._get(pk), user=request.user)
        return Response(campaign_data(result, request.user), status=code)

    @extend_schema(request=None, responses={200: PUBLISHED})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish (or send for approval); ``warnings``: the forecast's, as they stood before."""
        campaign = self._get(pk)
        warnings = forecast.warnings(campaign, user=request.user)
        result = services.publish(campaign=campaign, user=request.user)
        return Response({**campaign_data(result, request.user), "warnings": warnings})

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        return self._lifecycle(request, pk, services.revise)

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"], url_path="discard-revision")
    def discard_revision(self, request, pk=None):
        return self._lifecycle(request, pk, services.discard_revision)

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._lifecycle(request, pk, services.pause)

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._lifecycle(request, pk, services.resume)

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._lifecycle(request, pk, services.stop)

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._lifecycle(request, pk, services.close)

    @extend_schema(request=None, responses={201: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        return self._lifecycle(request, pk, services.duplicate, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._lifecycle(request, pk, services.archive)
