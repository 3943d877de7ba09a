"""REST endpoints of the audiences app, mounted under /api/."""

urlpatterns = []
