"""Public health endpoint (owned by the foundation work; see README)."""

urlpatterns = []
