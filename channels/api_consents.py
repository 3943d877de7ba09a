"""``consents/``, ``consents/imports/`` and ``suppressions/`` (design 6, issue 13).

- ``GET consents/?schema=&key=&channel=&status=``: paged consents; ``POST consents/``
  ``{"schema", "key", "channel", "status", "category"?, "source"?}``: the profile's choice
  (upserted: one per profile, channel and category), 200 with it.
- ``POST consents/imports/``: multipart ``schema`` and ``file`` (CSV with a header: ``key``,
  ``channel``, ``status``, optional ``category``, ``source``; ``encoding`` utf-8, latin-1 or
  cp1252): ``{"written", "rejected": [{"index", "message"}]}``, rejects numbered from 1 for the
  first data row (as records' imports, design 5.2); ``?format=csv`` answers the rejects as CSV.
- ``GET suppressions/?channel=&reason=&address=``; ``POST suppressions/`` ``{"channel",
  "address", "reason", "note"?}`` (201; 200 when it was already suppressed);
  ``DELETE suppressions/{id}/``.
"""

import csv
import io

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.models import Schema
from channels import consents
from channels.models import Channel, Consent, ConsentStatus, Suppression, SuppressionReason
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination
from config.errors import NotFound, ValidationFailed

TEXT = {"type": "string"}
CONSENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "schema": {"type": "string", "nullable": True},
        "key": TEXT,
        "channel": {"type": "string", "enum": list(Channel.values)},
        "category": {"type": "string", "enum": ["marketing", "transactional"]},
        "status": {"type": "string", "enum": list(ConsentStatus.values)},
        "address": TEXT,
        "source": TEXT,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
CONSENT_IN = {
    "type": "object",
    "properties": {
        "schema": {**TEXT, "maxLength": 40},
        "key": {**TEXT, "maxLength": 255},
        "channel": {"type": "string", "enum": list(Channel.values)},
        "category": {"type": "string", "enum": ["marketing", "transactional"]},
        "status": {"type": "string", "enum": list(ConsentStatus.values)},
        "source": {**TEXT, "maxLength": 200},
    },
    "required": ["schema", "key", "channel", "status"],
}
SUPPRESSION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "channel": {"type": "string", "enum": list(Channel.values)},
        "address": TEXT,
        "reason": {"type": "string", "enum": list(SuppressionReason.values)},
        "note": TEXT,
        "created_at": {"type": "string", "format": "date-time"},
    },
}
SUPPRESSION_IN = {
    "type": "object",
    "properties": {
        "channel": {"type": "string", "enum": list(Channel.values)},
        "address": {**TEXT, "maxLength": 320},
        "reason": {"type": "string", "enum": list(SuppressionReason.values)},
        "note": TEXT,
    },
    "required": ["channel", "address", "reason"],
}
IMPORTED = {
    "type": "object",
    "properties": {
        "written": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "message": TEXT},
            },
        },
    },
}
ENCODINGS = ("utf-8", "latin-1", "cp1252")


def consent_data(consent: Consent) -> dict:
    return {
        "id": consent.pk,
        "schema": consent.schema.name if consent.schema_id else None,
        "key": consent.key,
        "channel": consent.channel,
        "category": consent.category,
        "status": consent.status,
        "address": consent.address,
        "source": consent.source,
        "created_at": consent.created_at,
        "updated_at": consent.updated_at,
    }


def suppression_data(found: Suppression) -> dict:
    return {
        "id": found.pk, "channel": found.channel, "address": found.address,
        "reason": found.reason, "note": found.note, "created_at": found.created_at,
    }  # fmt: skip


def _schema(name, path="schema"):
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValidationFailed([{"path": path, "message": "the name of a schema is required"}])
    found = Schema.objects.filter(name=name[:40]).first()
    if found is None:
        raise ValidationFailed([{"path": path, "message": f"no schema {name[:40]!r}"}])
    return found


def _filtered(queryset, request, names):
    for name in names:
        value = request.query_params.get(name)
        if value:
            queryset = queryset.filter(**{name: value.replace("\x00", "")[:320]})
    return queryset


def _page(request, view, queryset, shape):
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response([shape(item) for item in page])


def _filters(*names):
    return [OpenApiParameter(name, str, required=False) for name in names]


class ConsentViewSet(viewsets.ViewSet):
    """Opt-ins and opt-outs per profile, channel and category."""

    queryset = Consent.objects.all()

    @extend_schema(
        operation_id="consents_list",
        parameters=_filters("schema", "key", "channel", "status"),
        responses={200: Page(CONSENT)},
    )
    def list(self, request):
        found = Consent.objects.select_related("schema")
        name = request.query_params.get("schema")
        if name:
            found = found.filter(schema__name=name.replace("\x00", "")[:40])
        found = _filtered(found, request, ("key", "channel", "status"))
        return _page(request, self, found, consent_data)

    @extend_schema(
        operation_id="consents_create",
        request={"application/json": CONSENT_IN},
        responses={200: CONSENT},
    )
    def create(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        if not isinstance(request.data, dict):
            raise ValidationFailed([{"path": "", "message": "must be an object"}])
        consent = consents.set_consent(
            user=request.user,
            schema=_schema(data.get("schema")),
            key=data.get("key"),
            channel=data.get("channel"),
            status=data.get("status"),
            category=data.get("category") or "marketing",
            source=data.get("source") or "API",
        )
        return Response(consent_data(consent))


def _rows(upload, encoding):
    try:
        text = io.TextIOWrapper(upload.file, encoding=encoding, newline="")
        reader = csv.DictReader(text)
        rows = [{k: v for k, v in row.items() if k} for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationFailed(
            [{"path": "file", "message": f"not a readable CSV: {exc}"}]
        ) from None
    if "\x00" in repr(rows):
        raise ValidationFailed([{"path": "file", "message": "the file holds NUL characters"}])
    return rows


def _rejects_csv(rejected):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["index", "message"])
    writer.writerows([r["index"], r["message"]] for r in rejected)
    from django.http import HttpResponse

    return HttpResponse(out.getvalue(), content_type="text/csv")


class ConsentImport(APIView):
    queryset = Consent.objects.all()  # StaffModelPermissions: add_consent

    @extend_schema(
        operation_id="consents_import",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "schema": TEXT,
                    "file": {"type": "string", "format": "binary"},
                    "encoding": {"type": "string", "enum": list(ENCODINGS)},
                },
                "required": ["schema", "file"],
            }
        },
        parameters=[OpenApiParameter("format", str, required=False, enum=["json", "csv"])],
        responses={200: IMPORTED, (201, "text/csv"): str},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed([{"path": "file", "message": "a CSV file is required"}])
        encoding = request.data.get("encoding") or "utf-8"
        if encoding not in ENCODINGS:
            raise ValidationFailed([{"path": "encoding", "message": "utf-8, latin-1 or cp1252"}])
        schema = _schema(request.data.get("schema"))
        result = consents.import_consents(
            user=request.user, schema=schema, rows=_rows(upload, encoding)
        )
        if request.query_params.get("format") == "csv":
            response = _rejects_csv(result["rejected"])
            response.status_code = http.HTTP_201_CREATED
            return response
        return Response(result)


class SuppressionViewSet(viewsets.ViewSet):
    """Addresses that get nothing on their channel (hard bounces, complaints, blocklist)."""

    queryset = Suppression.objects.all()
    lookup_value_regex = r"\d+"

    @extend_schema(
        operation_id="suppressions_list",
        parameters=_filters("channel", "reason", "address"),
        responses={200: Page(SUPPRESSION)},
    )
    def list(self, request):
        found = _filtered(Suppression.objects.all(), request, ("channel", "reason"))
        address = request.query_params.get("address")
        if address:
            found = found.filter(address__iexact=address.replace("\x00", "")[:320].strip())
        return _page(request, self, found, suppression_data)

    @extend_schema(
        operation_id="suppressions_create",
        request={"application/json": SUPPRESSION_IN},
        responses={200: SUPPRESSION, 201: SUPPRESSION},
    )
    def create(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed([{"path": "", "message": "must be an object"}])
        data = request.data
        before = Suppression.objects.count()
        found = consents.suppress(
            user=request.user, channel=data.get("channel"), address=data.get("address"),
            reason=data.get("reason"), note=data.get("note") or "",
        )  # fmt: skip
        created = Suppression.objects.count() > before
        return Response(suppression_data(found), status=201 if created else 200)

    @extend_schema(operation_id="suppressions_destroy", responses={204: None})
    def destroy(self, request, pk=None):
        found = Suppression.objects.filter(pk=int(pk)).first() if str(pk).isdigit() else None
        if found is None or int(pk) > 2**62:
            raise NotFound("no such suppression")
        consents.unsuppress(user=request.user, suppression=found)
        return Response(status=204)
