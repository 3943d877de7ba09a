"""``manage.py seed_demo --profiles N``: the retail demo data set (audiences.demo), written as CSV
files to a temporary folder and imported through the same path as users' files
(``audiences.imports.import_csv``), with progress bars. Running it twice changes nothing (upsert);
the schemas are defined when they do not exist yet."""

import os
import tempfile
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from audiences import demo, dynamic
from audiences.imports import import_csv
from audiences.models import Schema


class Command(BaseCommand):
    help = "Define the retail demo schemas and import a deterministic data set of N profiles."

    def add_arguments(self, parser):
        parser.add_argument("--profiles", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--keep-files", help="Write the CSV files to this folder and keep them."
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        self._define()
        if options["keep_files"]:
            os.makedirs(options["keep_files"], exist_ok=True)
            self._seed(options["keep_files"], options)
        else:
            with tempfile.TemporaryDirectory(prefix="seed_demo_") as folder:
                self._seed(folder, options)
        demo.demo_seeded.send(sender=self.__class__, profiles=options["profiles"])
        self.stdout.write(f"seed_demo done in {time.monotonic() - started:.1f} s")

    def _define(self):
        document = demo.document()
        existing = set(Schema.objects.values_list("name", flat=True))
        missing = [s for s in document["schemas"] if s["name"] not in existing]
        if missing:
            from audiences.services.schemas import create_schemas

            with transaction.atomic():
                create_schemas(document={"schemas": missing})
            self.stdout.write(f"defined schemas: {', '.join(s['name'] for s in missing)}")
        dynamic.ensure_current()

    def _seed(self, folder, options):
        for name in demo.ORDER:
            step = time.monotonic()
            path = demo.write_file(name, folder, profiles=options["profiles"], seed=options["seed"])
            written = time.monotonic() - step
            rows, outcome = self._import(name, path)
            self.stdout.write(
                f"{name}: {rows} rows, {outcome.written} written, {outcome.rejected} rejected "
                f"(file {written:.1f} s, import {time.monotonic() - step - written:.1f} s)"
            )

    def _import(self, name, path):
        bar = tqdm(total=os.path.getsize(path), unit="B", unit_scale=True, desc=f"import {name}")
        state = {"read": 0}

        def progress(read_bytes, rows):
            bar.update(read_bytes - state["read"])
            state["read"] = read_bytes
            bar.set_postfix(rows=rows, refresh=False)

        try:
            with open(path, "rb") as stream:
                return import_csv(
                    schema=Schema.objects.get(name=name), stream=stream, progress=progress
                )
        finally:
            bar.close()
