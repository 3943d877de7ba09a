"""``manage.py campaigns_worker``: an engine worker (``campaigns.engine.worker.EngineWorker``).

Serves the engine queues (``engine`` then ``engine_long``, with ``RQ_QUEUE_PREFIX``) with rq's
scheduler for delayed wake-ups (waits, retries). Run as many as needed, on any machines; the other
queues (``default``, ``imports``, ``sending``) are for ``manage.py rqworker``, or for this worker
too with ``--also`` (after the engine queues: ``--also sending`` for a small deployment whose
engine workers also send).
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from campaigns.engine import scheduling


class Command(BaseCommand):
    help = "Run an engine worker: campaign steps, without forking, connections kept."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queues are empty.")
        parser.add_argument("--name", help="Worker name (default: rq's).")
        parser.add_argument(
            "--also",
            action="append",
            default=[],
            metavar="QUEUE",
            help="Serve this queue too, after the engine queues (without RQ_QUEUE_PREFIX).",
        )

    def handle(self, *args, burst=False, name=None, also=(), verbosity=1, **options):
        prefix = settings.RQ_QUEUE_PREFIX
        extra = [f"{prefix}{queue}" for queue in also]
        unknown = [q for q in extra if q not in settings.RQ_QUEUES]
        if unknown:
            known = ", ".join(q.removeprefix(prefix) for q in settings.RQ_QUEUES)
            raise CommandError(f"--also {unknown[0].removeprefix(prefix)}: no such queue ({known})")
        call_command(
            "rqworker",
            *scheduling.queue_names(),
            *extra,
            worker_class="campaigns.engine.worker.EngineWorker",
            with_scheduler=True,
            burst=burst,
            name=name,
            verbosity=verbosity,
        )
