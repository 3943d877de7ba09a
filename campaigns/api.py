"""REST endpoints for campaigns, versions, runs, transition records and human tasks (design 6).
Views only parse the request and call ``campaigns.services``."""

import jsonpatch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audiences import populations
from audiences.models import Population
from campaigns import definitions, services
from campaigns.models import Campaign, HumanTask, Run
from config.errors import ValidationFailed

OBJ = OpenApiTypes.OBJECT


def campaign_data(campaign):
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "description": campaign.description,
        "status": campaign.status,
        "schedule": campaign.schedule,
        "next_launch_at": campaign.next_launch_at,
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    }


def run_data(run):
    """The run as design 6 shows it, with a count on every transition (null: carried nothing)."""
    ars = {ar.key: ar for ar in run.activity_runs.all()}
    transitions = [
        {
            "from": t["from"],
            "port": t["port"],
            "to": t["to"],
            "count": (ars[t["from"]].counts or {}).get(t["port"]) if t["from"] in ars else None,
        }
        for t in run.version.definition["transitions"]
    ]
    activities = {
        key: {
            "type": ar.type,
            "status": ar.status,
            "attempt": ar.attempt,
            "started_at": ar.started_at,
            "finished_at": ar.finished_at,
            "error": ar.error,
            "counts": ar.counts,
        }
        for key, ar in ars.items()
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
        "transitions": transitions,
    }


def task_data(task):
    return {
        "id": task.pk,
        "kind": task.kind,
        "status": task.status,
        "title": task.title,
        "message": task.message,
        "group": task.group.name if task.group else None,
        "assignee": task.assignee_id,
        "decision": task.decision,
        "comment": task.comment,
        "due_at": task.due_at,
        "run": task.run_id,
        "activity": task.activity_run.key if task.activity_run else None,
    }


def _variables(request):
    data = request.data if isinstance(request.data, dict) else {}
    return data.get("variables") or {}


class CampaignViewSet(viewsets.ViewSet):
    """Campaigns: create from a definition (design 5.4), read, replace while draft, lifecycle."""

    queryset = Campaign.objects.all()

    def _get(self, pk):
        return get_object_or_404(Campaign, pk=pk)

    @extend_schema(operation_id="campaigns_list", responses=OBJ)
    def list(self, request):
        page = self.paginator.paginate_queryset(Campaign.objects.all(), request, view=self)
        return self.paginator.get_paginated_response([campaign_data(c) for c in page])

    @property
    def paginator(self):
        from config.api.pagination import PageNumberPagination

        if not hasattr(self, "_paginator"):
            self._paginator = PageNumberPagination()
        return self._paginator

    @extend_schema(request=OBJ, responses={201: OBJ})
    def create(self, request):
        campaign = services.create_from_definition(document=request.data, user=request.user)
        return Response(campaign_data(campaign), status=status.HTTP_201_CREATED)

    @extend_schema(responses=OBJ)
    def retrieve(self, request, pk=None):
        return Response(campaign_data(self._get(pk)))

    @extend_schema(request=OBJ, responses=OBJ)
    def update(self, request, pk=None):
        campaign = services.replace_definition(
            campaign=self._get(pk), document=request.data, user=request.user
        )
        return Response(campaign_data(campaign))

    @extend_schema(responses=OBJ)
    @action(detail=True, methods=["get"])
    def definition(self, request, pk=None):
        return Response(definitions.export(self._get(pk)))

    @extend_schema(operation_id="campaigns_versions_list", responses=OBJ)
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        versions = self._get(pk).versions.filter(number__isnull=False).order_by("number")
        return Response([{"number": v.number, "created_at": v.created_at} for v in versions])

    @extend_schema(responses=OBJ)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version(self, request, pk=None, number=None):
        campaign = self._get(pk)
        version = get_object_or_404(campaign.versions, number=number)
        before = campaign.versions.filter(number=int(number) - 1).first()
        diff = jsonpatch.make_patch(before.definition if before else {}, version.definition)
        return Response(
            {"number": version.number, "definition": version.definition, "diff": list(diff)}
        )

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["get", "post"])
    def validate(self, request, pk=None):
        errors = services.validation_errors(self._get(pk))
        return Response({"valid": not errors, "errors": errors})

    @extend_schema(request=OBJ, responses={202: OBJ})
    @action(detail=True, methods=["post"], url_path="test-run")
    def test_run(self, request, pk=None):
        run = services.test_run(
            campaign=self._get(pk), variables=_variables(request), user=request.user
        )
        return Response(run_data(run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=OBJ, responses={202: OBJ})
    @action(detail=True, methods=["post"])
    def trigger(self, request, pk=None):
        run = services.trigger(
            campaign=self._get(pk), variables=_variables(request), user=request.user
        )
        return Response(run_data(run), status=status.HTTP_202_ACCEPTED)

    def _lifecycle(self, request, pk, operation):
        result = operation(campaign=self._get(pk), user=request.user)
        code = status.HTTP_201_CREATED if operation is services.duplicate else status.HTTP_200_OK
        return Response(campaign_data(result), status=code)

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._lifecycle(request, pk, services.publish)

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._lifecycle(request, pk, services.pause)

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._lifecycle(request, pk, services.resume)

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._lifecycle(request, pk, services.stop)

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._lifecycle(request, pk, services.close)

    @extend_schema(request=None, responses={201: OBJ})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        return self._lifecycle(request, pk, services.duplicate)

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._lifecycle(request, pk, services.archive)


class RunViewSet(viewsets.ViewSet):
    """Runs, newest first (``?campaign=ID``), their activities, counts and transition records."""

    queryset = Run.objects.all()

    @extend_schema(
        operation_id="runs_list",
        parameters=[OpenApiParameter("campaign", int, required=False)],
        responses=OBJ,
    )
    def list(self, request):
        runs = Run.objects.select_related("version")
        if request.query_params.get("campaign"):
            runs = runs.filter(campaign_id=request.query_params["campaign"])
        paginator = CampaignViewSet().paginator
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response([run_data(r) for r in page])

    @extend_schema(responses=OBJ)
    def retrieve(self, request, pk=None):
        return Response(run_data(get_object_or_404(Run.objects.select_related("version"), pk=pk)))

    @extend_schema(request=None, responses=OBJ)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        run = services.stop_run(run=get_object_or_404(Run, pk=pk), user=request.user)
        return Response(run_data(run))

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", int, required=False),
            OpenApiParameter("limit", int, required=False),
        ],
        responses=OBJ,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"transitions/(?P<source>[a-z0-9_]+)/(?P<port>[a-z0-9_]+)/records",
    )
    def records(self, request, pk=None, source=None, port=None):
        run = get_object_or_404(Run, pk=pk)
        ar = get_object_or_404(run.activity_runs, key=source)
        population_id = (ar.outputs or {}).get(port)
        if population_id is None:
            return Response({"count": None, "results": []})
        try:
            offset = int(request.query_params.get("offset", 0))
            limit = min(int(request.query_params.get("limit", 50)), 1000)
        except ValueError:
            raise ValidationFailed([{"path": "limit", "message": "must be an integer"}]) from None
        population = Population.objects.get(pk=population_id)
        rows = populations.rows(population, offset=offset, limit=limit)
        return Response({"count": population.count, "results": rows})


class TaskViewSet(viewsets.ViewSet):
    """Human tasks; ``approve/`` and ``reject/`` decide one with a comment."""

    queryset = HumanTask.objects.all()

    @extend_schema(
        operation_id="tasks_list",
        parameters=[OpenApiParameter("status", str, required=False)],
        responses=OBJ,
    )
    def list(self, request):
        tasks = HumanTask.objects.select_related("group", "activity_run")
        if request.query_params.get("status"):
            tasks = tasks.filter(status=request.query_params["status"])
        paginator = CampaignViewSet().paginator
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response([task_data(t) for t in page])

    @extend_schema(responses=OBJ)
    def retrieve(self, request, pk=None):
        return Response(task_data(get_object_or_404(HumanTask, pk=pk)))

    def _decide(self, request, pk, decision):
        data = request.data if isinstance(request.data, dict) else {}
        task = services.decide_task(
            task=get_object_or_404(HumanTask, pk=pk),
            user=request.user,
            decision=decision,
            comment=str(data.get("comment") or ""),
        )
        return Response(task_data(task))

    @extend_schema(request=OBJ, responses=OBJ)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, pk, "approved")

    @extend_schema(request=OBJ, responses=OBJ)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, pk, "rejected")
