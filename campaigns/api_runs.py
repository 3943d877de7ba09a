"""REST endpoints for runs, their transition records and the activity kinds (design 6). Views
only parse the request and call ``campaigns.reads`` and ``campaigns.services``. Human tasks:
``campaigns.api_tasks``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from campaigns import reads, services
from campaigns.activities import registry
from campaigns.models import Run
from campaigns.openapi import KINDS, RUN, TRANSITION_RECORDS
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination
from config.api.requests import int_param
from config.pages import page_numbers


def run_data(run):
    """The run as design 6 shows it, with a count on every transition (null: carried nothing)."""
    activities = {
        key: {
            "type": ar.type,
            "status": ar.status,
            "attempt": ar.attempt,
            "started_at": ar.started_at,
            "finished_at": ar.finished_at,
            "error": ar.error,
            "counts": ar.counts,
            "note": (ar.state or {}).get("note", ""),
            "test_effect": (ar.state or {}).get("test_effect", ""),
        }
        for key, ar in reads.activities(run).items()
    }
    return {
        "id": run.pk,
        "campaign": run.campaign_id,
        "version": run.version.number,
        "status": run.status,
        "test": run.test,
        "variables": run.variables,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
        "activities": activities,
        "transitions": reads.transitions(run),
    }


class RunViewSet(viewsets.ViewSet):
    """Runs, newest first (``?campaign=ID``), their activities, counts and transition records."""

    queryset = Run.objects.all()
    lookup_value_regex = r"\d+"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "campaign", int, required=False, description="Only the runs of this campaign."
            )
        ],
        responses={200: Page(RUN)},
    )
    def list(self, request):
        runs = Run.objects.select_related("version")
        campaign = int_param(request, "campaign")
        if campaign is not None:
            runs = runs.filter(campaign_id=campaign)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response([run_data(r) for r in page])

    @extend_schema(responses={200: RUN})
    def retrieve(self, request, pk=None):
        return Response(run_data(get_object_or_404(Run.objects.select_related("version"), pk=pk)))

    @extend_schema(request=None, responses={200: RUN})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        run = services.stop_run(run=get_object_or_404(Run, pk=pk), user=request.user)
        return Response(run_data(run))

    @extend_schema(responses={200: TRANSITION_RECORDS})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"transitions/(?P<source>[a-z0-9_]+)/(?P<port>[a-z0-9_]+)/records",
    )
    def records(self, request, pk=None, source=None, port=None):
        run = get_object_or_404(Run.objects.select_related("version"), pk=pk)
        page, size = page_numbers(request.query_params)
        found = reads.rows(run, source, port, user=request.user, page=page, page_size=size)
        return Response(
            {
                "count": found.count,
                "next": self._page_link(request, page + 1) if page < found.pages else None,
                "previous": self._page_link(request, page - 1) if page > 1 else None,
                "page": found.page,
                "pages": found.pages,
                "columns": found.columns,
                "results": found.rows,
            }
        )

    def _page_link(self, request, page):
        return replace_query_param(request.build_absolute_uri(), "page", page)


class KindsView(APIView):
    """The activity registry (design 6): each kind's option schema, ports, inputs and help, for
    the canvas palette and clients. Generated from the kinds; never written by hand."""

    permission_model = None

    @extend_schema(operation_id="kinds_list", responses={200: KINDS})
    def get(self, request):
        return Response({"kinds": [kind.reference() for kind in registry.all()]})
