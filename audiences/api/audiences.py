"""``audiences/count/``, ``preview/``, ``distribution/`` and saved audiences (design 6): thin views
over ``audiences.compiler`` and ``audiences.services.audiences``.

Count, preview and distribution run under ``SET LOCAL statement_timeout`` =
``settings.COUNT_STATEMENT_TIMEOUT_MS``; a rule too heavy for it gets a 400 at path ``where``.
Their bodies are objects of known keys only (``QUERY_KEYS`` and each view's own): an unknown key
is a 400 at its path, as for schema documents. The documents are described in
``audiences.api.documents``.
"""

import datetime
import time
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from audiences import rules
from audiences.api import documents as docs
from audiences.compiler import queryset_for
from audiences.models import AudienceKind, SavedAudience, Schema
from audiences.services import audiences as services
from config.access import require
from config.api.requests import body_object, flag_param
from config.errors import ValidationFailed

MAX_PREVIEW_ROWS = 200
QUERY_KEYS = ("schema", "where", "variables")


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _schema(data):
    name = data.get("schema")
    schema = Schema.objects.filter(name=name).first() if isinstance(name, str) else None
    if schema is None:
        raise ValidationFailed([{"path": "schema", "message": "an existing schema name"}])
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValidationFailed([{"path": "variables", "message": "an object"}])
    return schema, variables


def _bounded(run):
    """Run ``run()`` in a transaction under the count statement timeout."""
    timeout = int(settings.COUNT_STATEMENT_TIMEOUT_MS)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {timeout}")
            return run()
    except OperationalError as exc:
        if "statement timeout" not in str(exc):
            raise
        message = f"the rule took longer than {timeout} ms to evaluate; narrow it down"
        raise ValidationFailed([{"path": "where", "message": message}]) from exc


def _lookups(schema, columns, path):
    found, errors = {}, []
    for index, column in enumerate(columns):
        try:
            found[column], _kind = rules.field_lookup(
                schema=schema, field=column, path=f"{path}[{index}]"
            )
        except ValidationFailed as exc:
            errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    return found


class _RuleView(GenericAPIView):
    """Evaluates a rule; ``needs``: the permissions (design 9) and the words of a refusal."""

    permission_model = None
    needs = (("audiences.count_audience", "Counting an audience"),)
    keys = QUERY_KEYS

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for permission, doing in self.needs:
            require(request.user, permission, doing)

    def body(self, request):
        return body_object(request, self.keys)

    def evaluate(self, data):
        schema, variables = _schema(data)
        now = timezone.now()
        queryset = queryset_for(
            schema=schema, where=data.get("where"), variables=variables, now=now
        )
        return schema, queryset, now


class CountView(_RuleView):
    """The exact number of records matching a rule."""

    @extend_schema(request={"application/json": docs.COUNT_QUERY}, responses={200: docs.COUNT})
    def post(self, request):
        _schema_obj, queryset, now = self.evaluate(self.body(request))
        started = time.monotonic()
        count = _bounded(queryset.count)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return Response({"count": count, "elapsed_ms": elapsed, "evaluated_at": now.isoformat()})


class PreviewView(_RuleView):
    """The count, the first rows (``columns``, ``limit``) and the generated SQL."""

    needs = (
        ("audiences.count_audience", "Counting an audience"),
        ("audiences.view_records", "Previewing records"),
    )
    keys = (*QUERY_KEYS, "columns", "limit")

    @extend_schema(request={"application/json": docs.PREVIEW_QUERY}, responses={200: docs.PREVIEW})
    def post(self, request):
        data = self.body(request)
        schema, queryset, now = self.evaluate(data)
        limit = data.get("limit", 20)
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 0 <= limit <= MAX_PREVIEW_ROWS
        ):
            raise ValidationFailed([{"path": "limit", "message": f"0 to {MAX_PREVIEW_ROWS}"}])
        columns = data.get("columns") or [a.name for a in schema.attributes.all()]
        if not isinstance(columns, list):
            raise ValidationFailed([{"path": "columns", "message": "a list of field paths"}])
        lookups = _lookups(schema, columns, "columns")
        page = queryset.order_by("pk").values_list(*lookups.values())[:limit]
        started = time.monotonic()

        def run():
            return queryset.count(), list(page)

        count, found = _bounded(run)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        sql, params = queryset.query.sql_with_params()
        return Response(
            {
                "count": count,
                "elapsed_ms": elapsed,
                "evaluated_at": now.isoformat(),
                "rows": [dict(zip(lookups, map(_json, row), strict=True)) for row in found],
                "sql": sql,
                "params": [_json(p) for p in params],
            }
        )


class DistributionView(_RuleView):
    """The 20 most frequent values of ``field`` among the records matching the rule."""

    keys = (*QUERY_KEYS, "field")

    @extend_schema(
        request={"application/json": docs.DISTRIBUTION_QUERY}, responses={200: docs.DISTRIBUTION}
    )
    def post(self, request):
        data = self.body(request)
        schema, queryset, _now = self.evaluate(data)
        field = data.get("field")
        lookup = _lookups(schema, [field], "field")[field] if isinstance(field, str) else None
        if lookup is None:
            raise ValidationFailed([{"path": "field", "message": "a field path"}])
        top = (
            queryset.order_by()
            .values_list(lookup)
            .annotate(n=Count("pk"))
            .order_by("-n", lookup)[:20]
        )
        values = _bounded(lambda: list(top))
        return Response(
            {"field": field, "values": [{"value": _json(v), "count": n} for v, n in values]}
        )


def audience_document(audience):
    return {
        "name": audience.name,
        "schema": audience.schema.name,
        "kind": audience.kind,
        "where": audience.where if audience.kind == AudienceKind.RULE else None,
        "description": audience.description,
        "count": audience.count,
        "counted_at": audience.counted_at.isoformat() if audience.counted_at else None,
    }


class AudienceListView(GenericAPIView):
    """Saved audiences; POST a rule audience, or ``"kind": "snapshot"`` to freeze a rule's
    members now."""

    queryset = SavedAudience.objects.select_related("schema")

    @extend_schema(responses={200: docs.AUDIENCES_PAGE})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([audience_document(a) for a in page])

    @extend_schema(request={"application/json": docs.NEW_AUDIENCE}, responses={201: docs.AUDIENCE})
    def post(self, request):
        data = body_object(request, ("name", "schema", "kind", "where", "description"))
        kind = data.get("kind", AudienceKind.RULE)
        if kind not in AudienceKind.values:
            raise ValidationFailed([{"path": "kind", "message": "rule or snapshot"}])
        create = (
            services.create_rule_audience
            if kind == AudienceKind.RULE
            else services.snapshot_from_rule
        )
        audience = create(
            name=data.get("name"),
            schema=data.get("schema"),
            where=data.get("where", {"and": []}),
            description=data.get("description", ""),
            user=request.user,
        )
        return Response(audience_document(audience), status=status.HTTP_201_CREATED)


REFRESH = OpenApiParameter("refresh", bool, description="true: count the members again now")


class AudienceDetailView(GenericAPIView):
    """One saved audience: read (``?refresh=true`` recounts), change its rule, delete it."""

    queryset = SavedAudience.objects.select_related("schema", "population")
    lookup_field = "name"

    @extend_schema(parameters=[REFRESH], responses={200: docs.AUDIENCE})
    def get(self, request, name):
        audience = get_object_or_404(self.get_queryset(), name=name)
        if flag_param(request, "refresh"):
            _bounded(lambda: services.refresh_count(audience=audience))
        return Response(audience_document(audience))

    @extend_schema(
        request={"application/json": docs.AUDIENCE_CHANGE}, responses={200: docs.AUDIENCE}
    )
    def patch(self, request, name):
        audience = get_object_or_404(self.get_queryset(), name=name)
        data = body_object(request, ("where", "description"))
        services.update_rule_audience(
            audience=audience,
            where=data.get("where"),
            description=data.get("description"),
            user=request.user,
        )
        return Response(audience_document(audience))

    @extend_schema(responses={204: None})
    def delete(self, request, name):
        audience = get_object_or_404(self.get_queryset(), name=name)
        services.delete_audience(audience=audience, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
