"""A demo-like shop for the browser tests of the rule builder, the data browser and tasks: the
schemas of ``audiences.demo.document()`` (store, product, customer, purchase, subscription) with
a few records chosen so that each part of ``RULE`` changes its count (``RULE_COUNT``)."""

import datetime

from django.utils import timezone

from audiences import dynamic
from audiences.demo import document
from audiences.models import Schema
from audiences.services.record_documents import write_records
from audiences.services.schemas import create_schemas
from config.access import SYSTEM

# Customers of French stores whose store sold at least twice in the last 90 days, except those
# with fewer than 100 points or living in Germany (nulls: a missing points value is not "< 100").
RULE = {
    "and": [
        {"field": "store.country", "op": "eq", "value": "FR"},
        {
            "exists": "store",
            "where": {
                "aggregate": "count",
                "link": "purchases",
                "where": {"field": "purchased_at", "op": "in_last", "value": "90d"},
                "op": "gte",
                "value": 2,
            },
        },
        {
            "not": {
                "or": [
                    {"field": "loyalty_points", "op": "lt", "value": 100},
                    {"field": "country", "op": "eq", "value": "DE"},
                ]
            }
        },
    ]
}
RULE_COUNT = 3  # c1, c6 and c7 (whose points are unknown)

STORES = [
    ("s1", "Rivoli", "Paris", "FR"),
    ("s2", "Bellecour", "Lyon", "FR"),
    ("s3", "Mitte", "Berlin", "DE"),
]
CUSTOMERS = [
    ("c1", "Ada", "s1", "FR", 500),
    ("c2", "Bruno", "s1", "FR", 50),
    ("c3", "Clara", "s1", "DE", 500),
    ("c4", "Denis", "s2", "FR", 500),
    ("c5", "Emma", "s3", "FR", 500),
    ("c6", "Farid", "s1", "FR", 800),
    ("c7", "Gina", "s1", "FR", None),
    ("c8", "Hugo", None, "FR", 900),
]
# (store, days ago): s1 sold 3 times recently, s2 once (and twice long ago), s3 five times.
PURCHASES = [("s1", 10), ("s1", 20), ("s1", 30), ("s1", 200), ("s2", 5), ("s2", 120), ("s2", 400)]
PURCHASES += [("s3", d) for d in (1, 2, 3, 4, 5)]


def _write(name, records):
    write_records(
        schema=Schema.objects.get(name=name),
        document={"records": records, "missing_links": "accept"},
        user=SYSTEM,
    )


def load():
    """Define the schemas and write the records (committed: the live server must see them)."""
    create_schemas(document=document())
    dynamic.bump()
    _write(
        "store",
        [dict(zip(("store_id", "name", "city", "country"), s, strict=True)) for s in STORES],
    )
    keys = ("customer_id", "first_name", "store_id", "country", "loyalty_points")
    customers = [dict(zip(keys, c, strict=True)) for c in CUSTOMERS]
    for c in customers:
        c["email"] = f"{c['first_name'].lower()}@example.org"
        c["last_name"] = "Martin"
    _write("customer", customers)
    now = timezone.now()
    _write(
        "purchase",
        [
            {
                "purchase_id": i + 1,
                "customer_id": "c1",
                "store_id": store,
                "amount": "25.00",
                "purchased_at": (now - datetime.timedelta(days=days)).isoformat(),
            }
            for i, (store, days) in enumerate(PURCHASES)
        ],
    )
