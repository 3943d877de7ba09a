from django.contrib.admin.apps import AdminConfig


class CampaignsAdminConfig(AdminConfig):
    """The product's own admin site (titles, index), used as ``admin.site`` everywhere."""

    default_site = "config.admin_site.CampaignsAdminSite"

    def ready(self):
        super().ready()
        from django.contrib.admin import options
        from django.db import models

        from config.forms import JSONField

        # Every JSON box of the admin parses with the limits of design 5.0 (config.forms).
        options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.JSONField] = {"form_class": JSONField}
