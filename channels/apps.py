from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    label = "channels"
    verbose_name = "Channels and deliveries"
    name = "channels"
    default_auto_field = "django.db.models.BigAutoField"
