"""Issue 13: a campaign's ``frequency_cap``; the roles get the permissions of consents,
suppressions and events (Data manager manages consents and suppressions, every role reads them;
``campaigns.roles``)."""

from django.db import migrations, models

from campaigns import roles

CODENAMES = [
    f"channels.{action}_{model}"
    for model in ("consent", "suppression", "event")
    for action in ("add", "change", "delete", "view")
]


def grant(apps, schema_editor):
    roles.fill(apps, codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0010_task_reminded_at"),
        ("channels", "0002_engagement"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="frequency_cap",
            field=models.JSONField(
                blank=True,
                help_text="At most K marketing messages per profile in D days for this campaign's "
                'deliveries: {"messages": K, "days": D}; empty: the FREQUENCY_CAP_* settings.',
                null=True,
            ),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
