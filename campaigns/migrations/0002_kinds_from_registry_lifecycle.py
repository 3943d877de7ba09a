"""Activity kinds come from the registry (no proxy model per kind); the lifecycle's named
permissions (design 9) replace ``run_campaign``; published campaigns can open a revision."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


OLD = "run_campaign"
NEW = ("test_run_campaign", "operate_campaign")


def activities_to_base(apps, schema_editor):
    """Every activity row points at the Activity model itself (its proxies are going)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Activity = apps.get_model("campaigns", "Activity")
    base, _ = ContentType.objects.get_or_create(app_label="campaigns", model="activity")
    Activity.objects.update(polymorphic_ctype=base)


def regrant(apps, schema_editor):
    """Holders of run_campaign get test_run_campaign and operate_campaign; run_campaign goes."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("campaigns")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    old = Permission.objects.filter(content_type__app_label="campaigns", codename=OLD).first()
    if old is None:
        return
    new = list(Permission.objects.filter(content_type__app_label="campaigns", codename__in=NEW))
    for group in old.group_set.all():
        group.permissions.add(*new)
    for user in old.user_set.all():
        user.user_permissions.add(*new)
    old.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(activities_to_base, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='AndJoinActivity',
        ),
        migrations.DeleteModel(
            name='ApprovalActivity',
        ),
        migrations.DeleteModel(
            name='BuildAudienceActivity',
        ),
        migrations.DeleteModel(
            name='CombineActivity',
        ),
        migrations.DeleteModel(
            name='EndActivity',
        ),
        migrations.DeleteModel(
            name='ForkActivity',
        ),
        migrations.DeleteModel(
            name='ReadAudienceActivity',
        ),
        migrations.DeleteModel(
            name='TestActivity',
        ),
        migrations.DeleteModel(
            name='WaitActivity',
        ),
        migrations.AlterModelOptions(
            name='activity',
            options={'ordering': ['order', 'id'], 'verbose_name_plural': 'activities'},
        ),
        migrations.AlterModelOptions(
            name='campaign',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('test_run_campaign', 'Can test-run a campaign'), ('publish_campaign', 'Can publish a campaign'), ('operate_campaign', 'Can pause, resume, stop and close a campaign and its runs'), ('archive_campaign', 'Can archive a campaign'), ('trigger_campaign', 'Can trigger a signal campaign')]},
        ),
        migrations.AlterModelOptions(
            name='humantask',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('decide_task', "Can approve or reject tasks of one's groups")]},
        ),
        migrations.AlterModelOptions(
            name='run',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('view_job_queues', 'Can see the job queues dashboard')]},
        ),
        migrations.AddField(
            model_name='campaign',
            name='revision_opened_at',
            field=models.DateTimeField(blank=True, help_text='Set while a revision of the published campaign is open.', null=True),
        ),
        migrations.AddField(
            model_name='campaign',
            name='revision_opened_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
            migrations.RunPython(regrant, migrations.RunPython.noop),
    ]
