"""``manage.py export_campaign ID``: the campaign's definition with every default filled in."""

import json

from django.core.management.base import BaseCommand, CommandError

from campaigns import definitions
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "Print a campaign's definition (design 5.4) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, *args, campaign_id, output=None, **options):
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"no campaign {campaign_id}")
        text = json.dumps(definitions.export(campaign), indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
