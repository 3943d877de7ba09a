"""Records and CSV imports of a schema (design 5.2, 6). Thin views over audiences.services.records
and audiences.imports."""

import csv
import importlib
from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences import dynamic
from audiences.api import documents as docs
from audiences.models import RecordImport, Schema
from config.access import require
from config.api.pagination import PageNumberPagination
from config.api.parsers import FormParser, JSONParser, MultiPartParser
from config.errors import ValidationFailed
from config.inputs import loads

WHERE = OpenApiParameter(
    "where", str, description='A rule (design 5.3) as JSON: {"field": "country", "op": "eq", ...}'
)


def filter_hook():
    """``filter_records(model, where)`` from audiences.compiler once it exists, else None."""
    try:
        module = importlib.import_module("audiences.compiler")
    except ImportError:
        return None
    return getattr(module, "filter_records", None)


def record_values(model, queryset):
    """(values queryset, renamer): rows keyed by attribute name (a link's value under its via)."""
    fields = [(f.attname, f.column) for f in model._meta.concrete_fields]
    values = queryset.values(*[attname for attname, _column in fields])

    def rename(row):
        return {column: _plain(row[attname]) for attname, column in fields}

    return values, rename


def _plain(value):
    """Decimals as strings, so that no digit is lost on the way to JSON."""
    return str(value) if isinstance(value, Decimal) else value


class RecordsView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request={"application/json": docs.RECORDS_DOCUMENT},
        responses={200: docs.RECORDS_WRITTEN},
        summary="Write records (upsert, insert, delete)",
    )
    def post(self, request, name):
        from audiences.services.record_documents import write_records

        schema = get_object_or_404(Schema, name=name)
        body = write_records(schema=schema, document=request.data, user=request.user)
        return Response(body)

    @extend_schema(
        parameters=[WHERE],
        responses={200: docs.RECORDS_PAGE},
        summary="Paged rows, optionally filtered by a rule (?where=)",
    )
    def get(self, request, name):
        require(request.user, "audiences.view_records", "Reading records")
        schema = get_object_or_404(Schema, name=name)
        model = dynamic.get_model(schema.name)
        queryset = model.objects.order_by("pk")
        where = request.query_params.get("where")
        if where:
            queryset = self._filtered(model, queryset, where)
        values, rename = record_values(model, queryset)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(values, request, view=self)
        return paginator.get_paginated_response([rename(row) for row in page])

    def _filtered(self, model, queryset, where):
        rule = loads(where, path="where")
        filter_records = filter_hook()
        if filter_records is None:
            raise ValidationFailed([{"path": "where", "message": "rules are not available yet"}])
        return filter_records(model, rule).order_by("pk")


def import_body(record_import):
    """The design 5.2 import document, with rows/s while it runs."""
    from audiences.import_runs import rows_per_second

    return {
        "id": record_import.pk,
        "schema": record_import.schema.name,
        "status": record_import.status,
        "rows": record_import.rows,
        "written": record_import.written,
        "unchanged": record_import.unchanged,
        "skipped_older": record_import.skipped_older,
        "rejected": record_import.rejected,
        "percent": record_import.percent,
        "rows_per_second": rows_per_second(record_import),
        "error": record_import.error,
    }


class ImportsView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": docs.IMPORT_UPLOAD},
        responses={202: docs.IMPORT},
        summary="Upload a CSV file (202)",
    )
    def post(self, request, name):
        from audiences.import_runs import start_import

        schema = get_object_or_404(Schema, name=name)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed([{"path": "file", "message": "a CSV file is required"}])
        record_import = start_import(
            schema=schema,
            upload=upload,
            mode=request.data.get("mode", "upsert"),
            missing_links=request.data.get("missing_links", "reject"),
            encoding=request.data.get("encoding", "utf-8"),
            user=request.user,
        )
        return Response(import_body(record_import), status=status.HTTP_202_ACCEPTED)


class ImportView(APIView):
    permission_model = RecordImport

    @extend_schema(responses={200: docs.IMPORT}, summary="Progress and counts of an import")
    def get(self, request, name, pk):
        record_import = get_object_or_404(RecordImport, pk=pk, schema__name=name)
        return Response(import_body(record_import))


def rejects_csv(record_import):
    """An HttpResponse with the rejects as CSV: row (from 1), message."""
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="import-{record_import.pk}-rejects.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["row", "message"])
    writer.writerows([reject["row"], reject["message"]] for reject in record_import.rejects)
    return response


class ImportRejectsView(APIView):
    @extend_schema(responses={(200, "text/csv"): str}, summary="The rejects of an import as CSV")
    def get(self, request, name, pk):
        require(request.user, "audiences.view_records", "Reading an import's rejects")
        return rejects_csv(get_object_or_404(RecordImport, pk=pk, schema__name=name))
