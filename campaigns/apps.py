from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    verbose_name = "Campaigns"
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from audiences.demo import demo_seeded
        from campaigns import demo

        demo_seeded.connect(demo.on_demo_seeded, dispatch_uid="campaigns.demo.example")
