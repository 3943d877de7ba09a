"""REST endpoints of the channels app, mounted under /api/: ``deliveries/``, ``consents/``,
``consents/imports/``, ``suppressions/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from channels.api import DeliveryViewSet
from channels.api_consents import ConsentImport, ConsentViewSet, SuppressionViewSet

router = SimpleRouter()
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("consents", ConsentViewSet, basename="consent")
router.register("suppressions", SuppressionViewSet, basename="suppression")

urlpatterns = [
    path("consents/imports/", ConsentImport.as_view(), name="consent-imports"),
    *router.urls,
]
