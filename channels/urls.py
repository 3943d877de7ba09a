"""REST endpoints of the channels app, mounted under /api/: ``deliveries/``."""

from rest_framework.routers import SimpleRouter

from channels.api import DeliveryViewSet

router = SimpleRouter()
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
