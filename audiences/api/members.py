"""``audiences/{name}/members/`` (design 6): the members of a saved audience, for other systems
to read what a campaign saved. Needs ``audiences.view_records``.

- JSON: a page (``?page=``, ``?page_size=`` up to 1000) ``{"count", "next", "previous",
  "results": [{"key", <saved column>...}]}`` in key order. A snapshot gives its keys and saved
  columns; a rule audience is evaluated now and gives keys.
- ``?format=csv``: every member as CSV (``key`` then the columns), streamed from a server-side
  cursor in chunks: memory does not grow with the audience.
"""

import csv
import datetime
from decimal import Decimal

from django.db import connection
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer

from audiences.compiler import queryset_for
from audiences.models import AudienceKind, SavedAudience
from audiences.population_ops import tables
from config.access import require
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination

FETCH = 5000


class _Echo:
    def write(self, value):
        return value


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def members_sql(audience):
    """``(SQL, params, column names)`` selecting every member in key order."""
    population = audience.population if audience.kind == AudienceKind.SNAPSHOT else None
    if audience.kind == AudienceKind.SNAPSHOT:
        if population is None:
            return "SELECT NULL WHERE false", [], ["key"]
        names = ["key", *(c["name"] for c in population.columns)]
        sql = (
            f"SELECT {tables.insert_columns(population)} FROM {population.table_name} ORDER BY key"
        )
        return sql, [], names
    queryset = queryset_for(schema=audience.schema, where=audience.where).order_by("pk")
    sql, params = queryset.values_list("pk").query.get_compiler(connection=connection).as_sql()
    return sql, list(params), ["key"]


def stream_csv(audience):
    sql, params, names = members_sql(audience)
    writer = csv.writer(_Echo())
    yield writer.writerow(names)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while found := cursor.fetchmany(FETCH):
            for row in found:
                yield writer.writerow([_plain(v) for v in row])


class AudienceMembersView(GenericAPIView):
    queryset = SavedAudience.objects.select_related("schema", "population")

    def perform_content_negotiation(self, request, force=False):
        if request.query_params.get("format") == "csv":  # answered by the view itself
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], required=False)],
        responses={
            200: Page({"type": "object", "additionalProperties": True}),
            (200, "text/csv"): str,
        },
        summary="The members of a saved audience (keys and saved columns)",
    )
    def get(self, request, name):
        require(request.user, "audiences.view_records", "Reading an audience's members")
        audience = get_object_or_404(self.get_queryset(), name=name)
        if request.query_params.get("format") == "csv":
            response = StreamingHttpResponse(stream_csv(audience), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{audience.name}.csv"'
            return response
        paginator = PageNumberPagination()
        page_size = paginator.get_page_size(request)
        number = paginator.get_page_number(request, paginator)
        sql, params, names = members_sql(audience)
        count = self._count(audience, sql, params)
        offset = (max(int(number), 1) - 1) * page_size if str(number).isdigit() else 0
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM ({sql}) m OFFSET %s LIMIT %s", [*params, offset, page_size]
            )
            rows = [dict(zip(names, map(_plain, r), strict=True)) for r in cursor.fetchall()]
        page = paginator.paginate_queryset(_Counted(count), request, view=self)
        return paginator.get_paginated_response(rows if page is not None else [])

    @staticmethod
    def _count(audience, sql, params):
        if audience.kind == AudienceKind.SNAPSHOT:
            return audience.population.count if audience.population else 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) m", params)
            return cursor.fetchone()[0]


class _Counted:
    """A sequence of ``count`` members for DRF's paginator (pages are read separately)."""

    def __init__(self, count):
        self.count_ = count

    def __len__(self):
        return self.count_

    def count(self):
        return self.count_

    def __getitem__(self, item):
        return []
