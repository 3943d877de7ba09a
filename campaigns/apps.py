from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    verbose_name = "Campaigns"
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from audiences.demo import demo_seeded
        from campaigns import demo

        demo_seeded.connect(demo.on_demo_seeded, dispatch_uid="campaigns.demo.example")

        from campaigns.activities import channel
        from campaigns.engine import wakeups
        from channels import signals

        signals.delivery_ended.connect(wakeups.on_delivery_ended, dispatch_uid="campaigns.wake")
        signals.owner_state.connect(channel.owner_state, dispatch_uid="campaigns.owner_state")
