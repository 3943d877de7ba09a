"""URLs: the admin, the REST API under /api/ (one include per app, the OpenAPI schema, Swagger UI
and Redoc), health, public endpoints."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from config.api.docs import RedocView, SwaggerView
from config.audit_api import AuditViewSet

api_patterns = [
    path("", include("audiences.urls")),
    path("", include("channels.urls")),
    path("", include("campaigns.urls")),
    path("audit/", AuditViewSet.as_view({"get": "list"}), name="audit"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN, no internet.
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

# JSON 404 / 500 under /api/, even outside DRF views (design 5.0: never an HTML error page).
handler404 = "config.api.errors.page_not_found"
handler500 = "config.api.errors.server_error"

urlpatterns = [
    path("admin/django-rq/", include("config.queues_dashboard")),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("", include("config.health")),
    path("", include("channels.public_urls")),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
]
