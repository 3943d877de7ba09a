"""The audit trail (Django's admin log, ``django_admin_log``) is append-only: PostgreSQL refuses
every UPDATE and DELETE of it, whoever asks (the admin, the ORM, a superuser's shell). TRUNCATE
(a test database being flushed, an operator's deliberate reset) is not refused. A user who has
entries therefore cannot be deleted (the admin deactivates them instead)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION campaigns_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % of django_admin_log refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Deactivate users who have audit entries instead of deleting them.';
END
$$;
CREATE TRIGGER django_admin_log_append_only
    BEFORE UPDATE OR DELETE ON django_admin_log
    FOR EACH ROW EXECUTE FUNCTION campaigns_audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS django_admin_log_append_only ON django_admin_log;
DROP FUNCTION IF EXISTS campaigns_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("campaigns", "0005_governance"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
