"""The targeting showcase campaign that ``manage.py seed_demo`` adds (over the retail demo data):
one draft using every targeting activity, which test-runs green.

French customers (``build_audience``) and the customers named in a coupon file (``load_file`` of
the campaign file ``FILE``, ``reconciliation`` on ``customer_id``, unreconciled lines on
``rejects``) are merged on email (``combine`` with ``keys``), deduplicated by email in lower case
keeping the most loyal (``deduplication``), enriched with their store's city, their spending, the
amounts of their two latest purchases and their coupon from the file (``enrichment``), then split
(``split``) into the 50 biggest spenders (saved as the snapshot audience ``AUDIENCE``:
``save_audience``), a 10 % random sample whose purchases are taken (``change_dimension``), and
the rest, whose loyalty points get their order count (``update_data``, skipped in test runs).

``ensure_showcase(profiles=N)`` is idempotent: it uploads the coupon file when missing (every 7th
customer of the demo set, plus lines that do not reconcile) and creates the campaign unless one
with ``NAME`` exists. Connected through ``campaigns.demo.on_demo_seeded``.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

NAME = "Demo: targeting showcase"
FILE = "demo_coupons.csv"
AUDIENCE = "demo_vip_customers"
FR = {"field": "country", "op": "eq", "value": "FR"}


def coupon_file(profiles: int) -> bytes:
    lines = ["customer_id,coupon,points"]
    lines += [f"c{i:07d},SPRING{i % 97:02d},{i % 50}" for i in range(0, profiles, 7)]
    lines += ["c9999999,UNKNOWN,1", ",NOBODY,2", "c0000007,DOUBLE,x"]
    return ("\n".join(lines) + "\n").encode()


def _end(key, x, y):
    return {"id": key, "type": "end", "position": [x, y]}


def _activities():
    last_purchases = {
        "alias": "last",
        "collect": 2,
        "link": "purchases",
        "fields": ["amount"],
        "order_by": "-purchased_at",
    }
    coupon = {
        "alias": "coupon",
        "file_column": "coupon",
        "type": "string",
        "join": {"column": "customer_id", "attribute": "customer_id"},
    }
    return [
        {
            "id": "french",
            "type": "build_audience",
            "position": [0, 0],
            "schema": "customer",
            "where": FR,
        },
        {
            "id": "coupons",
            "type": "load_file",
            "position": [0, 200],
            "file": FILE,
            "columns": [
                {"name": "customer_id", "required": True},
                {"name": "coupon", "case": "upper"},
                {"name": "points", "type": "integer"},
            ],
        },
        {
            "id": "coupon_holders",
            "type": "reconciliation",
            "position": [200, 200],
            "schema": "customer",
            "pairs": [{"column": "customer_id", "attribute": "customer_id"}],
        },
        {
            "id": "everyone",
            "type": "combine",
            "position": [400, 100],
            "operation": "union",
            "keys": ["email"],
            "primary": "french",
        },
        {
            "id": "one_per_email",
            "type": "deduplication",
            "position": [600, 100],
            "fields": [{"field": "email", "transform": "lower"}],
            "choose": {"by": "highest", "field": "loyalty_points"},
        },
        {
            "id": "profile",
            "type": "enrichment",
            "position": [800, 100],
            "file": "coupons",
            "columns": [
                {"alias": "city", "field": "store.city"},
                {"alias": "total", "aggregate": "sum", "link": "purchases", "field": "amount"},
                {"alias": "orders", "aggregate": "count", "link": "purchases"},
                last_purchases,
                coupon,
            ],
        },
        {
            "id": "tiers",
            "type": "split",
            "position": [1000, 100],
            "complement": True,
            "skip_empty": True,
            "subsets": [
                {
                    "name": "vip",
                    "where": {"field": "target.total", "op": "gte", "value": 500},
                    "limit": {"count": 50, "order_by": "-target.total"},
                },
                {"name": "sample", "limit": {"percent": 10, "order_by": "random"}},
            ],
        },
        {"id": "save_vip", "type": "save_audience", "position": [1200, 0], "name": AUDIENCE},
        {
            "id": "sample_purchases",
            "type": "change_dimension",
            "position": [1200, 100],
            "link": "purchases",
        },
        {
            "id": "points_from_orders",
            "type": "update_data",
            "position": [1200, 200],
            "schema": "customer",
            "operation": "update",
            "mapping": {"loyalty_points": "target.orders"},
        },
        _end("unreconciled", 400, 300),
        _end("duplicates", 800, 250),
        _end("vip_done", 1400, 0),
        _end("sample_done", 1400, 100),
        _end("rest_done", 1400, 200),
        _end("write_rejects", 1400, 300),
    ]


TRANSITIONS = [
    ("coupons", "out", "coupon_holders"),
    ("french", "out", "everyone"),
    ("coupon_holders", "out", "everyone"),
    ("coupon_holders", "rejects", "unreconciled"),
    ("everyone", "out", "one_per_email"),
    ("one_per_email", "out", "profile"),
    ("one_per_email", "duplicates", "duplicates"),
    ("profile", "out", "tiers"),
    ("tiers", "vip", "save_vip"),
    ("tiers", "sample", "sample_purchases"),
    ("tiers", "complement", "points_from_orders"),
    ("save_vip", "out", "vip_done"),
    ("sample_purchases", "out", "sample_done"),
    ("points_from_orders", "out", "rest_done"),
    ("points_from_orders", "rejects", "write_rejects"),
]


def definition():
    return {
        "name": NAME,
        "description": (
            "Every targeting activity over the demo data: French customers and coupon holders "
            "from a file, one per email, enriched, split into VIPs (saved), a sample and the rest."
        ),
        "schedule": {"frequency": "asap"},
        "activities": _activities(),
        "transitions": [{"from": f, "port": p, "to": t} for f, p, t in TRANSITIONS],
    }


@transaction.atomic
def ensure_showcase(*, profiles=1000, user=None):
    from campaigns import files, services
    from campaigns.models import Campaign, CampaignFile
    from config.access import SYSTEM

    if not CampaignFile.objects.filter(name=FILE).exists():
        upload = SimpleUploadedFile(FILE, coupon_file(profiles), content_type="text/csv")
        files.upload(upload=upload, name=FILE, user=user or SYSTEM)
    existing = Campaign.objects.filter(name=NAME).first()
    if existing is not None:
        return existing
    return services.create_from_definition(document=definition(), user=user or SYSTEM)
