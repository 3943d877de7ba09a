"""REST endpoints of the campaigns app, mounted under /api/."""

from rest_framework.routers import SimpleRouter

from campaigns.api import CampaignViewSet, RunViewSet, TaskViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("runs", RunViewSet, basename="run")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
