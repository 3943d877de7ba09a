"""The six roles of ``campaigns.roles`` as Django groups, with their permissions. The permissions
are created first: Django only creates them after every migration ran, and a fresh database
would otherwise get empty groups. The groups stay editable in the admin."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from campaigns import roles

    roles.fill(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("django_rq", "0003_alter_dashboard_permission_names"),
        ("sessions", "0001_initial"),
        ("audiences", "0003_record_permissions"),
        ("campaigns", "0006_audit_append_only"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
