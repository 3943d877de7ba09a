"""``manage.py define_schemas FILE.json``: define schemas from a design 5.1 document (one schema or
``{"schemas": [...]}``), through the same service as the API and the admin. Errors are printed with
their JSON path, the exit status is non-zero, and nothing is written."""

import sys

from django.core.management.base import BaseCommand, CommandError

from audiences.services.schemas import create_schemas
from config.errors import ValidationFailed
from config.inputs import loads


class Command(BaseCommand):
    help = "Define schemas (and create their tables) from a JSON file in the format of design 5.1."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON document ('-' for standard input)")

    def handle(self, *args, **options):
        document = self._load(options["file"])
        try:
            schemas = create_schemas(document=document)
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(f"{error['path'] or '(document)'}: {error['message']}")
            raise CommandError(f"{len(exc.errors)} error(s); nothing was written") from exc
        for schema in schemas:
            self.stdout.write(f"defined {schema.name} (table {schema.table_name})")

    def _load(self, name):
        try:
            if name == "-":
                return loads(sys.stdin.read())
            with open(name, encoding="utf-8") as handle:
                return loads(handle.read())
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc.strerror}") from exc
        except (ValueError, ValidationFailed) as exc:
            raise CommandError(f"{name} is not valid JSON: {exc}") from exc
