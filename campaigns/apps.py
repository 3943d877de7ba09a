from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    verbose_name = "Campaigns"
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"
