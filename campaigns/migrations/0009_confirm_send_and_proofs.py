"""Send confirmations and proofs (design 10): their lifecycle codenames ``confirm_send`` and
``send_proof``, granted to the roles (``campaigns.roles``: Approver confirms sends, the group
``SEND_CONFIRMATION_GROUP`` names by default; Editor sends proofs). ``roles.fill`` creates the
permissions first: on a fresh database Django creates them only after every migration."""

from django.db import migrations

from campaigns import roles


def grant(apps, schema_editor):
    roles.fill(apps, codenames=["campaigns.confirm_send", "campaigns.send_proof"])


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_help_texts"),
        ("channels", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="campaign",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("test_run_campaign", "Can test-run a campaign"),
                    ("publish_campaign", "Can publish a campaign"),
                    (
                        "operate_campaign",
                        "Can pause, resume, stop and close a campaign and its runs",
                    ),
                    ("archive_campaign", "Can archive a campaign"),
                    ("trigger_campaign", "Can trigger a signal campaign"),
                    ("send_proof", "Can send proofs of a campaign's messages"),
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="humantask",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("decide_task", "Can approve or reject tasks of one's groups"),
                    ("assign_task", "Can assign and reassign tasks of one's groups"),
                    ("confirm_send", "Can confirm (or reject) a send waiting for confirmation"),
                ],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
