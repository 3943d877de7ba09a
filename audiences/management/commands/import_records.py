"""``manage.py import_records SCHEMA FILE``: a CSV import run in this process and recorded as a
RecordImport (the admin's import history, the audit trail), with a progress bar (bytes read),
then the counts and the rejects with their row numbers (from 1). A file refused whole prints
why (with the line or byte where it applies) and exits with status 1."""

import os
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audiences import dynamic
from audiences.csv_source import ENCODINGS
from audiences.import_runs import run_here
from audiences.imports import rejects_by_row
from audiences.models import Schema
from audiences.services.records import MISSING_LINKS, MODES

SHOWN_REJECTS = 50


class Command(BaseCommand):
    help = "Import a CSV file into a schema (header = attribute names), showing progress."

    def add_arguments(self, parser):
        parser.add_argument("schema")
        parser.add_argument("file")
        parser.add_argument("--mode", choices=MODES, default="upsert")
        parser.add_argument("--missing-links", choices=MISSING_LINKS, default="reject")
        parser.add_argument("--encoding", choices=list(ENCODINGS), default="utf-8")
        parser.add_argument("--all-rejects", action="store_true", help="Print every reject.")

    def handle(self, *args, **options):
        dynamic.ensure_current()
        try:
            schema = Schema.objects.get(name=options["schema"])
        except Schema.DoesNotExist:
            raise CommandError(f"no schema named {options['schema']!r}") from None
        try:
            size = os.path.getsize(options["file"])
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from None
        started = time.monotonic()
        record_import, result = self._run(schema, options, size)
        if result is None:
            raise CommandError(f"import {record_import.pk} refused: {record_import.error}")
        rows, outcome = result
        seconds = time.monotonic() - started
        self.stdout.write(
            f"import {record_import.pk}: {rows} rows read, {outcome.written} written "
            f"({outcome.unchanged} unchanged), "
            f"{outcome.skipped_older} skipped as older, {outcome.rejected} rejected in "
            f"{seconds:.2f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"
        )
        rejects = rejects_by_row(outcome)
        shown = rejects if options["all_rejects"] else rejects[:SHOWN_REJECTS]
        for reject in shown:
            self.stdout.write(f"  row {reject['row']}: {reject['message']}")
        if len(shown) < outcome.rejected:
            self.stdout.write(f"  ... {outcome.rejected - len(shown)} more (--all-rejects)")

    def _run(self, schema, options, size):
        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"import {schema.name}")
        state = {"read": 0}

        def progress(read_bytes, rows):
            bar.update(read_bytes - state["read"])
            state["read"] = read_bytes
            bar.set_postfix(lines=rows, refresh=False)

        try:
            with open(options["file"], "rb") as stream:
                return run_here(
                    schema=schema,
                    stream=stream,
                    name=os.path.basename(options["file"]),
                    size=size,
                    mode=options["mode"],
                    missing_links=options["missing_links"],
                    encoding=options["encoding"],
                    progress=progress,
                )
        finally:
            bar.close()
