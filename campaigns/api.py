"""REST endpoints for campaigns, their versions and lifecycle (design 6). Views only parse the
request and call ``campaigns.services``, which enforce the lifecycle table (``campaigns.lifecycle``:
403 naming the permission, 409 naming the state). Runs, tasks and kinds: ``campaigns.api_runs``."""

import jsonpatch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import definitions, lifecycle, services
from campaigns.api_runs import run_data
from campaigns.models import Campaign
from campaigns.openapi import (
    CAMPAIGN,
    DEFINITION,
    RUN,
    VALIDATION,
    VARIABLES_BODY,
    VERSION,
    VERSION_DETAIL,
)
from campaigns.versions import latest_version
from config.api.openapi import TOO_SOON, Page
from config.api.pagination import PageNumberPagination
from config.api.requests import body_object


def campaign_data(campaign, user=None):
    """The campaign as ``campaigns/{id}/`` shows it; ``actions``: what ``user`` may do now."""
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
        "actions": [a.name for a in lifecycle.available(campaign, user)] if user else [],
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
        versions = self._get(pk).versions.filter(number__isnull=False).order_by("number")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(
            [{"number": v.number, "created_at": v.created_at} for v in page]
        )

    @extend_schema(responses={200: VERSION_DETAIL})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version(self, request, pk=None, number=None):
        campaign = self._get(pk)
        version = get_object_or_404(campaign.versions, number=number)
        before = campaign.versions.filter(number=int(number) - 1).first()
        diff = jsonpatch.make_patch(before.definition if before else {}, version.definition)
        return Response(
            {"number": version.number, "definition": version.definition, "diff": list(diff)}
        )

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

    @extend_schema(request=None, responses={200: CAMPAIGN})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._lifecycle(request, pk, services.publish)

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
