from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    label = "channels"
    verbose_name = "Channels and deliveries"
    name = "channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels import pressure, receivers

        pressure.register()
        receivers.connect()
