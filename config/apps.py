from django.contrib.admin.apps import AdminConfig


class CampaignsAdminConfig(AdminConfig):
    """The product's own admin site (titles, index), used as ``admin.site`` everywhere."""

    default_site = "config.admin_site.CampaignsAdminSite"
