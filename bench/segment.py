"""Segmentation benchmark (issue 4): five rules on the 1,000,000-customer retail demo set.

For each rule: our exact count and our materialization into a population (audiences.compiler /
audiences.populations) against the best hand-written SQL for the same result, on the same server
in the same run (best of ``--repeat`` runs each, after one warm-up), results checked equal.

Data: the demo schemas (audiences.demo.document(), defined through create_schemas when missing).
When ``data_customer`` holds fewer than ``--profiles`` rows the tables are filled here by
deterministic set-based SQL (generate_series): stores, products, customers and about 10
purchases per customer (10% of customers have none). Indexes used by both sides: the demo's
``indexed`` attributes (customer.country, purchase.purchased_at, product.category) and the link
columns (indexed as foreign keys), plus ``data_purchase (customer_id, purchased_at)`` created here.

Run: DATABASE_URL=... .venv/bin/python bench/segment.py [--profiles 1000000] [--repeat 3]
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from audiences import demo, dynamic, populations  # noqa: E402
from audiences.compiler import queryset_for  # noqa: E402
from audiences.models import SavedAudience, Schema  # noqa: E402

NOW = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
NOW_SQL = "TIMESTAMPTZ '2026-11-01 00:00:00+00'"
EXTRA_INDEX = (
    "CREATE INDEX IF NOT EXISTS bench_purchase_customer_at "
    "ON data_purchase (customer_id, purchased_at) INCLUDE (amount)"
)

RULES = [
    (
        "1 plain attribute: country = FR",
        {"field": "country", "op": "eq", "value": "FR"},
        "SELECT c.customer_id FROM data_customer c WHERE c.country = 'FR'",
    ),
    (
        "2 many-to-one: store.city = Paris",
        {"field": "store.city", "op": "eq", "value": "Paris"},
        "SELECT c.customer_id FROM data_customer c JOIN data_store s "
        "ON s.store_id = c.store_id WHERE s.city = 'Paris'",
    ),
    (
        "3 exists purchase of shoes in the last 90 days",
        {
            "exists": "purchases",
            "where": {
                "and": [
                    {"field": "purchased_at", "op": "in_last", "value": "90d"},
                    {"field": "product.category", "op": "eq", "value": "shoes"},
                ]
            },
        },
        "SELECT c.customer_id FROM data_customer c WHERE EXISTS (SELECT 1 FROM data_purchase p "
        "JOIN data_product pr ON pr.product_id = p.product_id WHERE p.customer_id = "
        f"c.customer_id AND p.purchased_at >= {NOW_SQL} - interval '90 days' "
        "AND pr.category = 'shoes')",
    ),
    (
        "4 sum of purchases in the last year > 1000",
        {
            "aggregate": "sum",
            "link": "purchases",
            "field": "amount",
            "where": {"field": "purchased_at", "op": "in_last", "value": "1y"},
            "op": "gt",
            "value": 1000,
        },
        "SELECT c.customer_id FROM data_customer c WHERE c.customer_id IN (SELECT p.customer_id "
        f"FROM data_purchase p WHERE p.purchased_at >= {NOW_SQL} - interval '1 year' "
        "GROUP BY p.customer_id HAVING sum(p.amount) > 1000)",
    ),
    (
        "5 in_audience(FR or DE) and not (points < 100 or bought in the last 30 days)",
        {
            "and": [
                {"in_audience": "bench_fr_de"},
                {
                    "not": {
                        "or": [
                            {"field": "loyalty_points", "op": "lt", "value": 100},
                            {
                                "exists": "purchases",
                                "where": {"field": "purchased_at", "op": "in_last", "value": "30d"},
                            },
                        ]
                    }
                },
            ]
        },
        "SELECT c.customer_id FROM data_customer c WHERE c.country IN ('FR', 'DE') "
        "AND (c.loyalty_points >= 100 OR c.loyalty_points IS NULL) AND NOT EXISTS (SELECT 1 "
        "FROM data_purchase p WHERE p.customer_id = c.customer_id "
        f"AND p.purchased_at >= {NOW_SQL} - interval '30 days')",
    ),
]

FILL = [
    "INSERT INTO data_store (store_id, name, city, country) SELECT 's' || i, 'Store ' || i, "
    "(ARRAY['Paris','Lyon','Berlin','Munich','New York','London','Madrid','Rome'])[1 + i % 8], "
    "(ARRAY['FR','FR','DE','DE','US','GB','ES','IT'])[1 + i % 8] FROM generate_series(1, 2000) i",
    "INSERT INTO data_product (product_id, name, category, price) SELECT 'p' || i, "
    "'Product ' || i, (ARRAY['shoes','shirts','trousers','dresses','bags','accessories',"
    "'sport','kids'])[1 + i % 8], (i % 20000) / 100.0 FROM generate_series(1, 5000) i",
    "INSERT INTO data_customer (customer_id, first_name, last_name, email, country, city, "
    "birth_date, loyalty_points, store_id, updated_at) SELECT 'c' || i, 'F' || (i % 97), "
    "'L' || (i % 89), 'c' || i || '@example.com', "
    "(ARRAY['FR','FR','FR','FR','DE','DE','US','US','GB','ES','IT'])[1 + (i * 7) % 11], "
    "'City', DATE '1950-01-01' + ((i * 37) % 20000)::int, CASE WHEN i % 50 = 0 THEN NULL "
    "ELSE (i * 7919) % 5000 END, 's' || (1 + (i * 31) % 2000), {now} "
    "FROM generate_series(1::bigint, {n}) i",
    "INSERT INTO data_purchase (purchase_id, customer_id, product_id, store_id, amount, "
    "purchased_at) SELECT i, 'c' || (1 + (i::bigint * 48271) % ({n} * 9 / 10)), "
    "'p' || (1 + (i::bigint * 31) % 5000), 's' || (1 + i % 2000), (i::bigint * 37 % 50000) "
    "/ 100.0, {now} - make_interval(secs => (i::bigint * 7919) % (3 * 365 * 86400)) "
    "FROM generate_series(1::bigint, {n} * 10) i",
]


def ensure_data(profiles):
    if not Schema.objects.filter(name="customer").exists():
        from audiences.services.schemas import create_schemas

        with transaction.atomic():
            create_schemas(document=demo.document())
    dynamic.ensure_current()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM data_customer), (SELECT count(*) FROM data_purchase), "
            "EXISTS (SELECT 1 FROM data_customer WHERE customer_id = 'c1')"
        )
        customers, purchases, ours = cursor.fetchone()  # not seed_demo's rows (c0000001...)
        if customers != profiles or purchases < profiles or not ours:
            started = time.monotonic()
            for table in ("data_purchase", "data_customer", "data_product", "data_store"):
                cursor.execute(f"TRUNCATE {table}")
            # secondary indexes are rebuilt after the load: far faster than maintaining them
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                "('data_purchase', 'data_customer') AND indexname NOT LIKE '%%pkey'"
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for statement in FILL:
                cursor.execute(statement.format(n=int(profiles), now=NOW_SQL))
            for _name, definition in indexes:
                cursor.execute(definition)
            print(f"filled {profiles} customers in {time.monotonic() - started:.0f} s")
        cursor.execute(EXTRA_INDEX)
        cursor.execute("VACUUM ANALYZE data_purchase")
        cursor.execute("VACUUM ANALYZE data_customer")
        cursor.execute("ANALYZE data_store")
        cursor.execute("ANALYZE data_product")
    customer = Schema.objects.get(name="customer")
    SavedAudience.objects.update_or_create(
        name="bench_fr_de",
        defaults={
            "schema": customer,
            "kind": "rule",
            "where": {"field": "country", "op": "in", "value": ["FR", "DE"]},
        },
    )


def ours_count(where):
    return queryset_for(schema="customer", where=where, now=NOW).count()


def hand_count(sql):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) t")
        return cursor.fetchone()[0]


def ours_materialize(where):
    customer = Schema.objects.get(name="customer")
    with transaction.atomic():
        pop = populations.from_rule(schema=customer, where=where, now=NOW, label="bench")
    return pop


def hand_materialize(sql):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_hand")
        cursor.execute("CREATE TABLE bench_hand (key varchar PRIMARY KEY)")
        cursor.execute(f"INSERT INTO bench_hand (key) {sql}")
        count = cursor.rowcount
        cursor.execute("ANALYZE bench_hand")
    return count


def same_members(pop):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM (SELECT key FROM pop_{pop.pk} EXCEPT "
            f"SELECT key FROM bench_hand) a) + (SELECT count(*) FROM (SELECT key FROM "
            f"bench_hand EXCEPT SELECT key FROM pop_{pop.pk}) b)"
        )
        return cursor.fetchone()[0] == 0


def interleaved(ours, hand, repeat, cleanup=None):
    """Best time of each side, runs alternated (after one warm-up each) so that checkpoints and
    other load hit both alike; returns (ours_s, hand_s, ours_result, hand_result)."""
    results = {}
    times = {"ours": [], "hand": []}
    for attempt in range(repeat + 1):
        for side, run in (("ours", ours), ("hand", hand)):
            started = time.perf_counter()
            results[side] = run()
            if attempt:
                times[side].append(time.perf_counter() - started)
            if cleanup and side == "ours" and attempt < repeat:
                cleanup(results[side])
    return min(times["ours"]), min(times["hand"]), results["ours"], results["hand"]


def bench_rule(title, where, sql, repeat):
    ours_c, hand_c, count, hand = interleaved(
        lambda: ours_count(where), lambda: hand_count(sql), repeat
    )
    ours_m, hand_m, pop, hand_rows = interleaved(
        lambda: ours_materialize(where),
        lambda: hand_materialize(sql),
        repeat,
        cleanup=populations.drop,
    )
    equal = count == hand == pop.count == hand_rows and same_members(pop)
    populations.drop(pop)
    return {
        "rule": title,
        "count": count,
        "ours_count_ms": ours_c * 1000,
        "hand_count_ms": hand_c * 1000,
        "count_ratio": ours_c / hand_c,
        "ours_mat_ms": ours_m * 1000,
        "hand_mat_ms": hand_m * 1000,
        "mat_ratio": ours_m / hand_m,
        "equal": equal,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", type=int, help="run only rule N (1-5)")
    args = parser.parse_args()
    ensure_data(args.profiles)
    header = (
        f"{'rule':<78} {'count':>8} {'ours ms':>9} {'SQL ms':>9} {'ratio':>6} "
        f"{'mat ms':>9} {'SQL ms':>9} {'ratio':>6} equal"
    )
    print(header)
    failed = False
    for index, (title, where, sql) in enumerate(RULES, start=1):
        if args.only and index != args.only:
            continue
        r = bench_rule(title, where, sql, args.repeat)
        failed |= not r["equal"] or r["count_ratio"] > 1.25 or r["mat_ratio"] > 1.25
        print(
            f"{r['rule']:<78} {r['count']:>8} {r['ours_count_ms']:>9.1f} "
            f"{r['hand_count_ms']:>9.1f} {r['count_ratio']:>6.2f} {r['ours_mat_ms']:>9.1f} "
            f"{r['hand_mat_ms']:>9.1f} {r['mat_ratio']:>6.2f} {r['equal']}"
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_hand")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
