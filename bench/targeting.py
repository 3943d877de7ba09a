"""Targeting activities benchmark (issue 12): each activity's set operation on the demo data set
against hand-written SQL giving the same result, in the same run (best of ``--repeat`` after one
warm-up, runs alternated; counts checked equal), plus ``load_file`` of a 1,000,000-line file with
the process's peak RSS.

Data: ``bench/segment.py``'s ``ensure_data`` (demo schemas, ``--profiles`` customers, about 10
purchases each). Each side runs in a transaction that is rolled back, so nothing accumulates.

The hand-written side gives the same result as a client of the database must: its working sets
are plain tables (a population is read by other workers, so never a ``TEMP`` table, which skips
the WAL and lives in one session), and a file is sent with ``COPY FROM STDIN`` from this process,
as ``load_file`` sends it.

Run: DATABASE_URL=... .venv/bin/python bench/targeting.py [--profiles 1000000] [--repeat 2]
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.db import connection, transaction  # noqa: E402
from segment import NOW, ensure_data  # noqa: E402 - sets Django up

from audiences import populations  # noqa: E402
from audiences.models import Schema  # noqa: E402
from audiences.population_ops import (  # noqa: E402
    dedup,
    dimension,
    enrich,
    files,
    keyed,
    reconcile,
    split,
    writes,
)

TARGET = 1.5


class Rollback(Exception):
    pass


def timed(run):
    """(seconds, count) of ``run()`` inside a transaction rolled back afterwards."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            count = run()
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        return elapsed, count


def hand(*statements):
    def run():
        with connection.cursor() as cursor:
            count = None
            for statement in statements:
                if callable(statement):  # a COPY FROM STDIN, as any client sends a file
                    statement(cursor)
                    continue
                cursor.execute(statement)
                if (
                    count is None
                    and cursor.rowcount >= 0
                    and statement.lstrip().startswith(("CREATE", "INSERT", "UPDATE"))
                ):
                    count = cursor.rowcount
        return count

    return run


def copy_in(cursor, statement, path):
    """Send the file from this process, as ``load_file`` does (a server-side ``COPY FROM
    'file'`` reads a file on the database host, which the application cannot use)."""
    with open(path, "rb") as source, cursor.cursor.copy(statement) as copy:
        while chunk := source.read(1 << 20):
            copy.write(chunk)


def pop(where):
    return populations.from_rule(schema=Schema.objects.get(name="customer"), where=where, now=NOW)


def base(where, name="b"):
    """Hand side: the inbound set as a plain table ``name``."""
    return (
        f"CREATE TABLE {name} AS SELECT customer_id AS key FROM data_customer "
        f"WHERE {where}; ALTER TABLE {name} ADD PRIMARY KEY (key); ANALYZE {name}"
    )


FR = {"field": "country", "op": "eq", "value": "FR"}


def ours_with(setup, operation):
    def run():
        inbound = setup()
        return operation(inbound)

    return run


def cases(workdir, profiles):
    lines = workdir / "lines.csv"
    with open(lines, "w") as out:
        out.write("customer_id,code,points\n")
        for i in range(1_000_000):
            out.write(f"c{(i * 7) % (profiles + 100)},CODE{i % 1000},{i % 500}\n")

    def loaded():
        return files.load(
            open_stream=lambda: open(lines, "rb"),
            columns=[
                {"name": "customer_id"},
                {"name": "code"},
                {"name": "points", "type": "integer"},
            ],
        )

    load_hand = (
        "CREATE TEMP TABLE s (a text, b text, c text) ON COMMIT DROP",  # staging, as _load
        lambda cursor: copy_in(cursor, "COPY s FROM STDIN (FORMAT csv, HEADER true)", lines),
        "CREATE TABLE h AS SELECT row_number() OVER () + 1 AS key, "
        "NULLIF(btrim(a), '') AS a, NULLIF(btrim(b), '') AS b, NULLIF(btrim(c), '')::bigint AS c FROM s",
        "ANALYZE h",
    )
    return [
        (
            "change_dimension customers FR -> purchases",
            ours_with(
                lambda: pop(FR), lambda p: dimension.move(population=p, link="purchases")[0].count
            ),
            hand(
                base("country = 'FR'"),
                "CREATE TABLE h AS SELECT p.purchase_id FROM b JOIN data_purchase p ON p.customer_id = b.key",
                "ANALYZE h",
            ),
        ),
        (
            "change_dimension purchases (FR customers) -> customer",
            ours_with(
                lambda: dimension.move(population=pop(FR), link="purchases")[0],
                lambda p: dimension.move(population=p, link="customer")[0].count,
            ),
            hand(
                base("country = 'FR'"),
                "CREATE TABLE pp AS SELECT p.purchase_id AS key FROM b JOIN data_purchase p ON p.customer_id = b.key",
                "ANALYZE pp",
                "CREATE TABLE h AS SELECT DISTINCT c.customer_id FROM pp JOIN data_purchase p ON p.purchase_id = pp.key JOIN data_customer c ON c.customer_id = p.customer_id",
                "ANALYZE h",
            ),
        ),
        (
            "deduplication all customers by lower(email), highest points",
            ours_with(
                lambda: pop({"and": []}),
                lambda p: (
                    dedup.deduplicate(
                        population=p,
                        fields=[{"field": "email", "transform": "lower"}],
                        choose={"by": "highest", "field": "loyalty_points"},
                    )[0].count
                ),
            ),
            hand(
                base("true"),
                "CREATE TABLE r AS SELECT b.key, CASE WHEN NULLIF(lower(c.email), '') IS NULL THEN 1 ELSE row_number() OVER (PARTITION BY NULLIF(lower(c.email), '') ORDER BY c.loyalty_points DESC NULLS LAST, b.key) END AS n FROM b JOIN data_customer c ON c.customer_id = b.key",
                "CREATE TABLE h AS SELECT key FROM r WHERE n <= 1",
                "CREATE TABLE d AS SELECT key FROM r WHERE n > 1",
                "ANALYZE h",
                "ANALYZE d",
            ),
        ),
        (
            "split FR / 10% random / complement",
            ours_with(
                lambda: pop({"and": []}),
                lambda p: (
                    split.split(
                        population=p,
                        subsets=[
                            {"name": "fr", "where": FR},
                            {"name": "s", "limit": {"percent": 10}},
                        ],
                        complement=True,
                        seed="1",
                    )[0]["fr"].count
                ),
            ),
            hand(
                base("true"),
                "CREATE TABLE h AS SELECT b.key FROM b JOIN data_customer c ON c.customer_id = b.key WHERE c.country = 'FR'",
                "ANALYZE h",
                "CREATE TABLE s1 AS SELECT b.key FROM b WHERE NOT EXISTS (SELECT 1 FROM h WHERE h.key = b.key) ORDER BY md5('1' || b.key), b.key LIMIT (SELECT floor(count(*) * 0.1) FROM b WHERE NOT EXISTS (SELECT 1 FROM h WHERE h.key = b.key))",
                "ANALYZE s1",
                "CREATE TABLE c AS SELECT b.key FROM b WHERE NOT EXISTS (SELECT 1 FROM h WHERE h.key = b.key) AND NOT EXISTS (SELECT 1 FROM s1 WHERE s1.key = b.key)",
                "ANALYZE c",
            ),
        ),
        (
            "enrichment FR: store.city, count and sum of purchases",
            ours_with(
                lambda: pop(FR),
                lambda p: (
                    enrich.enrich(
                        population=p,
                        columns=[
                            {"alias": "city", "field": "store.city"},
                            {"alias": "n", "aggregate": "count", "link": "purchases"},
                            {
                                "alias": "t",
                                "aggregate": "sum",
                                "link": "purchases",
                                "field": "amount",
                            },
                        ],
                    ).count
                ),
            ),
            hand(
                base("country = 'FR'"),
                "CREATE TABLE h AS SELECT b.key, s.city, COALESCE(a.n, 0) AS n, COALESCE(a.t, 0) AS t FROM b JOIN data_customer c ON c.customer_id = b.key LEFT JOIN data_store s ON s.store_id = c.store_id LEFT JOIN (SELECT customer_id, count(*) n, sum(amount) t FROM data_purchase WHERE customer_id IN (SELECT key FROM b) GROUP BY customer_id) a ON a.customer_id = b.key",
                "ANALYZE h",
            ),
        ),
        (
            "combine intersection on email (FR, loyalty >= 100)",
            ours_with(
                lambda: (pop(FR), pop({"field": "loyalty_points", "op": "gte", "value": 100})),
                lambda ps: (
                    keyed.combine_on(
                        operation="intersection", populations=list(ps), keys=["email"]
                    ).count
                ),
            ),
            hand(
                base("country = 'FR'"),
                base("loyalty_points >= 100", "b2"),
                "CREATE TABLE h AS SELECT b.key FROM b JOIN data_customer c ON c.customer_id = b.key WHERE EXISTS (SELECT 1 FROM b2 JOIN data_customer c2 ON c2.customer_id = b2.key WHERE NULLIF(c2.email, '') = NULLIF(c.email, ''))",
                "ANALYZE h",
            ),
        ),
        ("load_file 1,000,000 lines", lambda: loaded()[0].count, hand(*load_hand)),
        (
            "reconciliation 1,000,000 lines on customer_id",
            ours_with(
                loaded,
                lambda r: (
                    reconcile.reconcile(
                        population=r[0],
                        schema=Schema.objects.get(name="customer"),
                        pairs=[{"column": "customer_id", "attribute": "customer_id"}],
                    )[0].count
                ),
            ),
            hand(
                *load_hand,
                "CREATE TABLE o AS SELECT DISTINCT ON (c.customer_id) c.customer_id, h.b, h.c FROM h JOIN data_customer c ON c.customer_id = h.a ORDER BY c.customer_id, h.key",
                "ANALYZE o",
                "CREATE TABLE rj AS SELECT h.key FROM h WHERE NOT EXISTS (SELECT 1 FROM data_customer c WHERE c.customer_id = h.a)",
                "ANALYZE rj",
            ),
        ),
        (
            "save_audience copy (FR with a column)",
            ours_with(
                lambda: enrich.enrich(
                    population=pop(FR), columns=[{"alias": "city", "field": "store.city"}]
                ),
                lambda p: populations.with_columns(population=p, columns={}).count,
            ),
            hand(
                base("country = 'FR'"),
                "CREATE TABLE e AS SELECT b.key, s.city FROM b JOIN data_customer c ON c.customer_id = b.key LEFT JOIN data_store s ON s.store_id = c.store_id",
                "CREATE TABLE h AS SELECT * FROM e",
                "ANALYZE h",
            ),
        ),
        (
            "update_data loyalty_points of FR from a column",
            ours_with(
                lambda: enrich.enrich(
                    population=pop(FR),
                    columns=[{"alias": "n", "aggregate": "count", "link": "purchases"}],
                ),
                lambda p: writes.write(
                    population=p,
                    schema=Schema.objects.get(name="customer"),
                    operation="update",
                    mapping={"loyalty_points": "target.n"},
                )[2]["written"],
            ),
            hand(
                base("country = 'FR'"),
                "CREATE TABLE e AS SELECT b.key, COALESCE(a.n, 0) AS n FROM b LEFT JOIN (SELECT customer_id, count(*) n FROM data_purchase WHERE customer_id IN (SELECT key FROM b) GROUP BY customer_id) a ON a.customer_id = b.key",
                "UPDATE data_customer c SET loyalty_points = e.n FROM e WHERE c.customer_id = e.key",
            ),
        ),
    ]


def interleaved(ours, theirs, repeat):
    best = {"ours": None, "hand": None}
    counts = {}
    for attempt in range(repeat + 1):
        for side, run in (("ours", ours), ("hand", theirs)):
            seconds, counts[side] = timed(run)
            if attempt and (best[side] is None or seconds < best[side]):
                best[side] = seconds
    return best["ours"], best["hand"], counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", help="run only the cases whose title contains this")
    args = parser.parse_args()
    ensure_data(args.profiles)
    print(f"load average {os.getloadavg()}")
    print(f"{'activity':<62} {'ours ms':>9} {'SQL ms':>9} {'ratio':>6} counts")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_targeting_", dir="/tmp") as folder:
        os.chmod(folder, 0o755)
        for title, ours, theirs in cases(Path(folder), args.profiles):
            if args.only and args.only not in title:
                continue
            ours_s, hand_s, counts = interleaved(ours, theirs, args.repeat)
            ratio = ours_s / hand_s
            failed |= ratio > TARGET
            print(
                f"{title:<62} {ours_s * 1000:>9.1f} {hand_s * 1000:>9.1f} {ratio:>6.2f} {counts['ours']} / {counts['hand']}"
            )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"load average {os.getloadavg()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
