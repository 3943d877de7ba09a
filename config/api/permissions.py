"""API permissions (to be completed by the foundation work: model + named custom permissions)."""

from rest_framework.permissions import IsAdminUser


class StaffModelPermissions(IsAdminUser):
    """Staff only."""
