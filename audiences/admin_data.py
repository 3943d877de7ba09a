"""The generic data browser and CSV import pages of the admin: one set of views for every schema
(never a ModelAdmin per schema), hung on the RecordImport admin, whose changelist is the import
history.

URLs under /admin/audiences/recordimport/:
- ``data/`` the schemas; ``data/<schema>/`` a paged list with search (``q``: text attributes
  contain it, or the key equals it), attribute filters (``f.<attribute>=value``, exact) and
  sorting by a column (``o=<attribute>``, ``o=-<attribute>`` descending: the headers are links;
  ``audiences.admin_table``); many-to-one values link to the record they name;
- ``data/<schema>/<pk>/`` one record, its many-to-one links and the counts of its one-to-many links;
- ``data/<schema>/import/`` the upload form; ``<id>/progress/`` live progress (polls the API);
- ``<id>/rejects/`` the rejects as CSV.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audiences import dynamic
from audiences.admin_table import cell, headers, sort_order, table_columns
from audiences.api.records import rejects_csv
from audiences.csv_source import ENCODINGS
from audiences.models import AttributeType, ImportStatus, RecordImport, Schema
from config.access import require
from config.errors import ValidationFailed

PAGE_SIZE = 50
TEXT_TYPES = (AttributeType.STRING, AttributeType.TEXT)


def _schema_and_model(name):
    schema = get_object_or_404(Schema, name=name)
    dynamic.ensure_current()
    try:
        return schema, dynamic.get_model(name)
    except KeyError:
        raise Http404(f"no table for schema {name}") from None


def _filtered(schema, model, params):
    """The records matching the search box and the attribute filters, and the active filters."""
    queryset = model.objects.order_by("pk")
    attributes = {a.name: a for a in schema.attributes.all()}
    active = {}
    for key, value in params.items():
        name = key.removeprefix("f.")
        if key.startswith("f.") and name in attributes and value != "":
            queryset = queryset.filter(**{dynamic.attname_of(model, name): value})
            active[name] = value
    search = params.get("q", "").strip()
    if search:
        condition = Q(pk=search) if attributes[schema.primary_key].type in TEXT_TYPES else Q()
        vias = set(schema.links.values_list("via", flat=True))
        for name, attribute in attributes.items():
            if attribute.type in TEXT_TYPES and name not in vias and name != schema.primary_key:
                condition |= Q(**{f"{dynamic.attname_of(model, name)}__icontains": search})
        queryset = queryset.filter(condition)
    return queryset, active


class RecordImportAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "schema",
        "original_name",
        "progress",
        "rows",
        "result",
        "rejects_link",
        "created_at",
    )
    list_filter = ("status", "schema", "origin")
    readonly_fields = [f.name for f in RecordImport._meta.fields]
    change_list_template = "admin/audiences/recordimport/change_list.html"

    def has_add_permission(self, request):
        return False  # imports start from the upload page of a schema

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="status", ordering="status")
    def progress(self, obj):
        """The status, with how far it got while it runs."""
        label = obj.get_status_display()
        return f"{label} {obj.percent:.0f}%" if obj.status == ImportStatus.RUNNING else label

    @admin.display(description="written", ordering="written")
    def result(self, obj):
        """Rows written, of which unchanged (left as they were), and older ones skipped."""
        text = f"{obj.written:,}"
        if obj.unchanged:
            text += f" ({obj.unchanged:,} unchanged)"
        if obj.skipped_older:
            text += f", {obj.skipped_older:,} older skipped"
        return text

    @admin.display(description="rejected", ordering="rejected")
    def rejects_link(self, obj):
        if not obj.rejected:
            return "-"
        url = reverse("admin:audiences_recordimport_rejects", args=[obj.pk])
        return format_html('<a href="{}">{} rows (CSV)</a>', url, obj.rejected)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("data/", view(self.schemas_view), name="audiences_data"),
            path("data/<str:name>/", view(self.records_view), name="audiences_data_records"),
            path("data/<str:name>/import/", view(self.upload_view), name="audiences_data_import"),
            path(
                "data/<str:name>/record/<path:pk>/",
                view(self.record_view),
                name="audiences_data_record",
            ),
            path("<int:pk>/progress/", view(self.progress_view), name="audiences_import_progress"),
            path(
                "<int:pk>/rejects/", view(self.rejects_view), name="audiences_recordimport_rejects"
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {**self.admin_site.each_context(request), "title": title, "opts": self.opts, **extra}

    def schemas_view(self, request):
        context = self._context(request, "Data", schemas=Schema.objects.all())
        return TemplateResponse(request, "admin/audiences/data/schemas.html", context)

    def records_view(self, request, name):
        require(request.user, "audiences.view_records", "Browsing records")
        schema, model = _schema_and_model(name)
        queryset, active = _filtered(schema, model, request.GET)
        columns = table_columns(schema, model)
        order = sort_order(request.GET.get("o", ""), columns)
        page = Paginator(queryset.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = self._context(
            request,
            f"{schema.label or schema.name}",
            schema=schema,
            headers=headers(columns, request.GET, order),
            rows=[(obj.pk, [cell(obj, column) for column in columns]) for obj in page],
            page=page,
            query=query.urlencode(),
            search=request.GET.get("q", ""),
            attributes=schema.attributes.all(),
            active=active,
        )
        return TemplateResponse(request, "admin/audiences/data/records.html", context)

    def record_view(self, request, name, pk):
        require(request.user, "audiences.view_records", "Reading a record")
        schema, model = _schema_and_model(name)
        record = get_object_or_404(model, pk=pk)
        values = [(column.label, cell(record, column)) for column in table_columns(schema, model)]
        outgoing = [
            (link, getattr(record, f"{link.name}_id")) for link in schema.links.select_related("to")
        ]
        incoming = [
            (link, model_count(link, record.pk))
            for link in schema.incoming_links.select_related("schema")
        ]
        context = self._context(
            request,
            f"{schema.label or schema.name}: {record.pk}",
            schema=schema,
            record=record,
            values=values,
            outgoing=outgoing,
            incoming=incoming,
        )
        return TemplateResponse(request, "admin/audiences/data/record.html", context)

    def upload_view(self, request, name):
        from audiences.import_runs import start_import

        schema, _model = _schema_and_model(name)
        require(request.user, "audiences.change_records", "Importing records")
        errors = {}
        if request.method == "POST" and request.FILES.get("file"):
            try:
                record_import = start_import(
                    schema=schema,
                    upload=request.FILES["file"],
                    mode=request.POST.get("mode", "upsert"),
                    missing_links=request.POST.get("missing_links", "reject"),
                    encoding=request.POST.get("encoding", "utf-8"),
                    user=request.user,
                )
            except ValidationFailed as exc:
                errors = {e["path"]: e["message"] for e in exc.errors}
            else:
                return redirect("admin:audiences_import_progress", record_import.pk)
        elif request.method == "POST":
            errors = {"file": "Choose a CSV file."}
        attributes = schema.attributes.all()
        context = self._context(
            request,
            f"Import into {schema.name}",
            schema=schema,
            attributes=attributes,
            errors=errors,
            encodings=list(ENCODINGS),
            chosen=request.POST,
        )
        return TemplateResponse(request, "admin/audiences/data/upload.html", context)

    def progress_view(self, request, pk):
        record_import = get_object_or_404(RecordImport.objects.select_related("schema"), pk=pk)
        api_url = reverse("schema-import", args=[record_import.schema.name, pk])
        context = self._context(
            request,
            f"Import {pk} into {record_import.schema.name}",
            record_import=record_import,
            api_url=api_url,
        )
        return TemplateResponse(request, "admin/audiences/data/progress.html", context)

    def rejects_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        require(request.user, "audiences.view_records", "Reading an import's rejects")
        return rejects_csv(get_object_or_404(RecordImport, pk=pk))


def model_count(link, key):
    """How many records of ``link.schema`` point to ``key`` through ``link``."""
    model = dynamic.get_model(link.schema.name)
    return model.objects.filter(**{f"{link.name}_id": key}).count()


admin.site.register(RecordImport, RecordImportAdmin)
