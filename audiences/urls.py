"""REST endpoints of the audiences app, mounted under /api/."""

from django.urls import path

from audiences.api import records as records_api

urlpatterns = [
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
