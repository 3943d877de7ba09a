"""Send confirmations and proofs (design 10): their lifecycle codenames ``confirm_send`` and
``send_proof``, and the group named by ``SEND_CONFIRMATION_GROUP`` whose members confirm sends
(it may see campaigns, runs, tasks and deliveries, and confirm); the roles get them too
(Approver confirms, Editor sends proofs). ``roles.fill`` creates the permissions first: on a
fresh database Django creates them only after every migration."""

from django.conf import settings
from django.db import migrations

from campaigns import roles

GROUP_PERMISSIONS = (
    ("campaigns", "confirm_send"),
    ("campaigns", "view_humantask"),
    ("campaigns", "view_campaign"),
    ("campaigns", "view_run"),
    ("channels", "view_delivery"),
)


def confirmers(apps, schema_editor):
    roles.fill(apps, codenames=["campaigns.confirm_send", "campaigns.send_proof"])
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=settings.SEND_CONFIRMATION_GROUP)
    for app, codename in GROUP_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )


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
                    ("operate_campaign", "Can pause, resume, stop and close a campaign and its runs"),
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
        migrations.RunPython(confirmers, migrations.RunPython.noop),
    ]
