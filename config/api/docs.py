"""The API's documentation pages: Swagger UI at ``/api/docs/`` and Redoc at ``/api/redoc/``.

Both read the OpenAPI schema at ``/api/schema/`` and load their JavaScript, CSS and fonts from
the ``drf-spectacular-sidecar`` package (``SWAGGER_UI_DIST`` / ``REDOC_DIST = "SIDECAR"``), served
by the project as static files, so they work with no internet access. Nothing else leaves the
machine either: the Redoc page drops drf-spectacular's Google Fonts links
(``config/templates/api/redoc.html``), and both pages carry a Content-Security-Policy that lets
the browser fetch only from this server (Redoc's bundle always shows Redocly's logo from its CDN:
the page swaps that image for an empty one before it is fetched, and the policy would block it).

``OPTIONS`` answers the allowed methods with an empty body (Django's own ``View.options``): the
pages render HTML templates, which DRF's metadata document does not fit.
"""

from django.views import View
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the pages' own inline start-up scripts
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
    ]
)


class SelfContained:
    """The docs pages' common behaviour (module docstring)."""

    def options(self, request, *args, **kwargs):
        return View.options(self, request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class SwaggerView(SelfContained, SpectacularSwaggerView):
    pass


class RedocView(SelfContained, SpectacularRedocView):
    template_name = "api/redoc.html"
