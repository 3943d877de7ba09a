"""Schema tables made before ``audiences.ddl.FILLFACTOR`` get it too: their later writes leave
room in each page for the next upsert's new row versions (HOT updates). Only a setting changes
(no rewrite); rows already stored keep their pages until they are rewritten."""

from django.db import migrations

FILLFACTOR = 90  # audiences.ddl.FILLFACTOR when this migration was written


def tables(apps, schema_editor):
    Schema = apps.get_model("audiences", "Schema")
    existing = set(schema_editor.connection.introspection.table_names())
    return [f"data_{name}" for name in Schema.objects.values_list("name", flat=True)
            if f"data_{name}" in existing]  # fmt: skip


def set_fillfactor(value):
    def run(apps, schema_editor):
        for table in tables(apps, schema_editor):
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {value})"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("audiences", "0007_import_unchanged")]

    operations = [migrations.RunPython(set_fillfactor(FILLFACTOR), set_fillfactor(100))]
