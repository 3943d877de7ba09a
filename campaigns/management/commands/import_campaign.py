"""``manage.py import_campaign FILE [--user NAME]``: create a draft campaign from a definition
(design 5.4). Without ``--user`` the operator acts as the system; with it, that user's permissions
apply, as in the admin and the API."""

import sys

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from config.access import SYSTEM
from config.errors import DomainError, ValidationFailed
from config.inputs import loads


class Command(BaseCommand):
    help = "Create a draft campaign from a JSON definition file ('-' for standard input)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", help="Act as this user (default: the system).")

    def handle(self, *args, file, user=None, **options):
        actor = acting_user(user)
        try:
            if file == "-":
                document = loads(sys.stdin.read())
            else:
                with open(file, encoding="utf-8") as handle:
                    document = loads(handle.read())
        except (OSError, ValueError, ValidationFailed) as exc:
            raise CommandError(f"{file}: {exc}") from None
        try:
            campaign = services.create_from_definition(document=document, user=actor)
        except ValidationFailed as exc:
            raise CommandError(
                "\n".join(f"{e['path'] or '(document)'}: {e['message']}" for e in exc.errors)
            ) from None
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{campaign.pk}\t{campaign.name}")


def acting_user(username):
    """The user named ``username``, or the system when None."""
    if username is None:
        return SYSTEM
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username=username, is_active=True).first()
    if found is None:
        raise CommandError(f"no active user named {username!r}")
    return found
