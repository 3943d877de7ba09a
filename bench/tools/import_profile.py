"""Where an import's time goes: ``import_csv`` of FILE into SCHEMA in this process, every SQL
statement timed (Django's execute wrapper; the COPY streams through psycopg directly and shows
as the gap between statements), printed longest first.

    DATABASE_URL=... LOCAL_MODE=1 .venv/bin/python bench/tools/import_profile.py SCHEMA FILE [--truncate]
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOCAL_MODE", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from audiences import dynamic  # noqa: E402
from audiences.imports import import_csv  # noqa: E402
from audiences.models import Schema  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema")
    parser.add_argument("file")
    parser.add_argument("--truncate", action="store_true", help="empty the table first")
    args = parser.parse_args()
    dynamic.ensure_current()
    schema = Schema.objects.get(name=args.schema)
    if args.truncate:
        with connection.cursor() as cursor:
            cursor.execute(f'TRUNCATE "{schema.table_name}"')
            cursor.execute("CHECKPOINT")
    timings, last = [], [time.monotonic()]

    def timed(execute, sql, params, many, context):
        started = time.monotonic()
        timings.append((started - last[0], "(between statements: COPY, Python)"))
        try:
            return execute(sql, params, many, context)
        finally:
            last[0] = time.monotonic()
            timings.append((last[0] - started, " ".join(sql.split())[:150]))

    started = time.monotonic()
    with connection.execute_wrapper(timed), open(args.file, "rb") as stream:
        rows, outcome = import_csv(schema=schema, stream=stream)
    total = time.monotonic() - started
    print(f"{rows:,} rows, {outcome.written:,} written ({outcome.path}) in {total:.2f} s")
    for seconds, what in sorted(timings, reverse=True)[:12]:
        print(f"{seconds:8.2f} s  {what}")


if __name__ == "__main__":
    main()
