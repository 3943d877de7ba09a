"""REST endpoints of the audiences app, mounted under /api/."""

from django.urls import path

from audiences.api import records as records_api
from audiences.api import schemas as schemas_api

urlpatterns = [
    path("schemas/", schemas_api.SchemaListView.as_view(), name="schemas"),
    path("schemas/<str:name>/", schemas_api.SchemaDetailView.as_view(), name="schema"),
    path(
        "schemas/<str:name>/attributes/<str:attribute>/",
        schemas_api.AttributeDetailView.as_view(),
        name="schema-attribute",
    ),
    path("schemas/<str:name>/records/", records_api.RecordsView.as_view(), name="schema-records"),
    path("schemas/<str:name>/imports/", records_api.ImportsView.as_view(), name="schema-imports"),
    path(
        "schemas/<str:name>/imports/<int:pk>/",
        records_api.ImportView.as_view(),
        name="schema-import",
    ),
    path(
        "schemas/<str:name>/imports/<int:pk>/rejects/",
        records_api.ImportRejectsView.as_view(),
        name="schema-import-rejects",
    ),
]
