"""The API's documentation pages: Swagger UI at ``/api/docs/`` and Redoc at ``/api/redoc/``.

Both read the OpenAPI schema at ``/api/schema/`` and load their JavaScript, CSS and fonts from
the ``drf-spectacular-sidecar`` package (``SWAGGER_UI_DIST`` / ``REDOC_DIST = "SIDECAR"``), served
by the project as static files: they work with no internet access (no CDN).

``OPTIONS`` answers the allowed methods with an empty body (Django's own ``View.options``): the
pages render HTML templates, which DRF's metadata document does not fit.
"""

from django.views import View
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView


class SwaggerView(SpectacularSwaggerView):
    def options(self, request, *args, **kwargs):
        return View.options(self, request, *args, **kwargs)


class RedocView(SpectacularRedocView):
    def options(self, request, *args, **kwargs):
        return View.options(self, request, *args, **kwargs)
