"""``manage.py import_campaign FILE``: create a draft campaign from a definition (design 5.4)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from config.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create a draft campaign from a JSON definition file ('-' for standard input)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                document = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    document = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        try:
            campaign = services.create_from_definition(document=document)
        except ValidationFailed as exc:
            raise CommandError(
                "\n".join(f"{e['path'] or '(document)'}: {e['message']}" for e in exc.errors)
            ) from None
        self.stdout.write(f"{campaign.pk}\t{campaign.name}")
