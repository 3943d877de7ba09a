"""REST endpoints of the campaigns app, mounted under /api/."""

urlpatterns = []
