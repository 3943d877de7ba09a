"""REST endpoints of the audiences app, mounted under /api/."""

from django.urls import path

from audiences.api import audiences as audiences_api
from audiences.api import members as members_api
from audiences.api import records as records_api
from audiences.api import schemas as schemas_api

urlpatterns = [
    path("audiences/count/", audiences_api.CountView.as_view(), name="audience-count"),
    path("audiences/preview/", audiences_api.PreviewView.as_view(), name="audience-preview"),
    path(
        "audiences/distribution/",
        audiences_api.DistributionView.as_view(),
        name="audience-distribution",
    ),
    path("audiences/", audiences_api.AudienceListView.as_view(), name="audiences"),
    path("audiences/<str:name>/", audiences_api.AudienceDetailView.as_view(), name="audience"),
    path(
        "audiences/<str:name>/members/",
        members_api.AudienceMembersView.as_view(),
        name="audience-members",
    ),
    path("schemas/", schemas_api.SchemaListView.as_view(), name="schemas"),
    path("schemas/<str:name>/", schemas_api.SchemaDetailView.as_view(), name="schema"),
    path(
        "schemas/<str:name>/fields/", schemas_api.SchemaFieldsView.as_view(), name="schema-fields"
    ),
    path(
        "schemas/<str:name>/attributes/<str:attribute>/",
        schemas_api.AttributeDetailView.as_view(),
        name="schema-attribute",
    ),
    path(
        "schemas/<str:name>/links/<str:link>/",
        schemas_api.LinkDetailView.as_view(),
        name="schema-link",
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
