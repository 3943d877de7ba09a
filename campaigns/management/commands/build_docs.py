from django.core.management.base import BaseCommand, CommandError

from campaigns import reference_docs


class Command(BaseCommand):
    help = (
        "Write the generated parts of docs/ (the activities and their options, from the kinds' "
        "option schemas); --check only says which are stale."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail when a file is stale")

    def handle(self, *args, check=False, **options):
        if check:
            stale = reference_docs.stale()
            if stale:
                raise CommandError(f"stale: {', '.join(stale)} (run make docs)")
            self.stdout.write("docs/ is up to date")
            return
        for name in reference_docs.write():
            self.stdout.write(f"wrote docs/{name}")
