"""The scheduler/reconciler process: ``manage.py campaigns_tick`` ticks every TICK_SECONDS.

Ticks keep a fixed rate (the next one is due TICK_SECONDS after the previous one started, not
after it ended), so the takeover bound of ``campaigns.engine.claim`` holds whatever a tick costs.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from campaigns.engine import reconciler


class Command(BaseCommand):
    help = "Re-enqueue due and orphaned activity runs, launch scheduled campaigns, in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")

    def handle(self, *args, once=False, **options):
        due = time.monotonic()
        while True:
            close_old_connections()
            counts = reconciler.tick()
            if any(counts.values()) or once:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()), ending="\n")
                self.stdout.flush()
            close_old_connections()
            if once:
                return
            due += settings.TICK_SECONDS
            time.sleep(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - settings.TICK_SECONDS)
