from django.apps import AppConfig


class AudiencesConfig(AppConfig):
    verbose_name = "Audiences and data"
    name = "audiences"
    default_auto_field = "django.db.models.BigAutoField"
