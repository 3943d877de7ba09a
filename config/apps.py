from django.contrib.admin.apps import AdminConfig


class CampaignsAdminConfig(AdminConfig):
    """The product's own admin site (titles, index), used as ``admin.site`` everywhere. After
    the admin's autodiscovery it adds the audit trail and the user admin that deactivates users
    with audit entries (``config.audit_admin``), and the audit of role and permission changes
    (``config.audit_signals``)."""

    default_site = "config.admin_site.CampaignsAdminSite"

    def ready(self):
        from django.contrib.admin import options
        from django.db import models

        from config.forms import JSONField

        # Every JSON box of the admin parses with the limits of design 5.0 (config.forms). Set
        # before the autodiscovery: each ModelAdmin copies these defaults when it is registered.
        options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.JSONField] = {"form_class": JSONField}
        super().ready()
        from config import audit_admin, audit_signals

        audit_admin.register(self.module.site)
        audit_signals.connect()
