"""``manage.py campaigns_worker``: an engine worker (``campaigns.engine.worker.EngineWorker``).

Serves the engine queues (``engine`` then ``engine_long``, with ``RQ_QUEUE_PREFIX``) with rq's
scheduler for delayed wake-ups (waits, retries). Run as many as needed, on any machines; the other
queues (``default``, ``imports``) are for ``manage.py rqworker``.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from campaigns.engine import scheduling


class Command(BaseCommand):
    help = "Run an engine worker: campaign steps, without forking, connections kept."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queues are empty.")
        parser.add_argument("--name", help="Worker name (default: rq's).")

    def handle(self, *args, burst=False, name=None, verbosity=1, **options):
        call_command(
            "rqworker",
            *scheduling.queue_names(),
            worker_class="campaigns.engine.worker.EngineWorker",
            with_scheduler=True,
            burst=burst,
            name=name,
            verbosity=verbosity,
        )
