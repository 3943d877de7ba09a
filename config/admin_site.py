from django.contrib import admin


class CampaignsAdminSite(admin.AdminSite):
    """The back-office as marketers see it."""

    site_header = "Orchestrated campaigns"
    site_title = "Orchestrated campaigns"
    index_title = "Campaign back-office"
