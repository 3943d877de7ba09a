"""REST endpoints of the channels app, mounted under /api/."""

urlpatterns = []
