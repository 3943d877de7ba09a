from django.apps import AppConfig


class AudiencesConfig(AppConfig):
    verbose_name = "Audiences and data"
    name = "audiences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from audiences import (
            admin_audiences,  # noqa: F401  (registers the audience builder)
            admin_data,  # noqa: F401  (registers the data browser and imports)
            audit,
        )

        audit.connect()  # imports are recorded in the audit trail
