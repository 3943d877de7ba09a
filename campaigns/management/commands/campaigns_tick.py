"""The scheduler/reconciler process: ``manage.py campaigns_tick`` ticks every TICK_SECONDS."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from campaigns.engine import reconciler


class Command(BaseCommand):
    help = "Re-enqueue due and orphaned activity runs, launch scheduled campaigns, in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")

    def handle(self, *args, once=False, **options):
        while True:
            counts = reconciler.tick()
            if any(counts.values()) or once:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()), ending="\n")
                self.stdout.flush()
            connections.close_all()
            if once:
                return
            time.sleep(settings.TICK_SECONDS)
