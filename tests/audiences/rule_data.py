"""A small data set for the rule tests: region <- store <- customer <- purchase <- line -> product,
with nulls, dangling links and records without related rows. ``load()`` defines the schemas,
creates their tables and inserts the rows (inside the test's transaction)."""

import datetime
from decimal import Decimal

from django.db import connection

from audiences import dynamic
from audiences.models import Attribute, Link, Schema

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)
NOW_SQL = "TIMESTAMPTZ '2026-06-15 12:00:00+00'"

SCHEMAS = [
    ("region", "region_id", [("region_id", "string"), ("name", "string")], []),
    (
        "store",
        "store_id",
        [("store_id", "string"), ("city", "string"), ("region_ref", "string")],
        [("region", "region", "region_ref", "stores")],
    ),
    (
        "customer",
        "customer_id",
        [
            ("customer_id", "string"),
            ("country", "string"),
            ("points", "integer"),
            ("balance", "decimal"),
            ("score", "float"),
            ("vip", "boolean"),
            ("birth", "date"),
            ("seen", "datetime"),
            ("bio", "text"),
            ("shop", "string"),
        ],
        [("store", "store", "shop", "customers")],
    ),
    ("product", "product_id", [("product_id", "string"), ("category", "string")], []),
    (
        "purchase",
        "purchase_id",
        [
            ("purchase_id", "integer"),
            ("customer_ref", "string"),
            ("amount", "decimal"),
            ("at", "datetime"),
        ],
        [("customer", "customer", "customer_ref", "purchases")],
    ),
    (
        "line",
        "line_id",
        [
            ("line_id", "integer"),
            ("purchase_ref", "integer"),
            ("product_ref", "string"),
            ("qty", "integer"),
        ],
        [
            ("purchase", "purchase", "purchase_ref", "lines"),
            ("product", "product", "product_ref", "lines"),
        ],
    ),
]


def _dt(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


CUSTOMERS = [
    dict(
        customer_id="c1",
        country="FR",
        points=10,
        balance=Decimal("100.50"),
        score=1.5,
        vip=True,
        birth=datetime.date(1990, 5, 1),
        seen=_dt("2026-06-10T10:00"),
        bio="likes shoes",
        shop="s1",
    ),
    dict(
        customer_id="c2",
        country="DE",
        points=0,
        balance=Decimal("0"),
        score=-2.0,
        vip=False,
        birth=datetime.date(2010, 1, 1),
        seen=_dt("2025-01-01T00:00"),
        bio="Nothing",
        shop="s2",
    ),
    dict(customer_id="c3"),
    dict(
        customer_id="c4",
        country="US",
        points=50,
        balance=Decimal("999.99"),
        score=0.0,
        vip=False,
        birth=datetime.date(2008, 6, 16),
        seen=_dt("2026-06-15T11:00"),
        bio="shoes and hats",
        shop="s9",
    ),
    dict(customer_id="c5", country="FR", points=10, birth=datetime.date(2008, 6, 15), shop="s1"),
]
ROWS = {
    "region": [dict(region_id="r1", name="North")],
    "store": [
        dict(store_id="s1", city="Paris", region_ref="r1"),
        dict(store_id="s2", city="Berlin"),
        dict(store_id="s3", city="Lyon", region_ref="r1"),
    ],
    "customer": CUSTOMERS,
    "product": [
        dict(product_id="p1", category="Shoes"),
        dict(product_id="p2", category="Hats"),
        dict(product_id="p3"),
    ],
    "purchase": [
        dict(purchase_id=1, customer_ref="c1", amount=Decimal(300), at=_dt("2026-06-01T00:00")),
        dict(purchase_id=2, customer_ref="c1", amount=Decimal(250), at=_dt("2025-12-01T00:00")),
        dict(purchase_id=3, customer_ref="c2", amount=Decimal(600), at=_dt("2026-06-14T00:00")),
        dict(purchase_id=4, customer_ref="c4", at=_dt("2026-06-14T00:00")),
        dict(purchase_id=5, customer_ref="c4", amount=Decimal(10), at=_dt("2024-01-01T00:00")),
        dict(purchase_id=6, amount=Decimal(1000), at=_dt("2026-06-14T00:00")),
        dict(purchase_id=7, customer_ref="c5", amount=Decimal(100)),
    ],
    "line": [
        dict(line_id=1, purchase_ref=1, product_ref="p1", qty=2),
        dict(line_id=2, purchase_ref=1, product_ref="p2", qty=1),
        dict(line_id=3, purchase_ref=3, product_ref="p2", qty=5),
        dict(line_id=4, purchase_ref=4, product_ref="p1"),
        dict(line_id=5, purchase_ref=6, product_ref="p1", qty=1),
        dict(line_id=6, purchase_ref=7, product_ref="p3", qty=3),
    ],
}


def define():
    """Create the schemas' metadata and tables (no rows)."""
    created = {}
    for name, pk, attributes, _links in SCHEMAS:
        created[name] = Schema.objects.create(name=name, primary_key=pk)
        for position, (attr, kind) in enumerate(attributes):
            Attribute.objects.create(
                schema=created[name],
                name=attr,
                type=kind,
                position=position,
                required=attr == pk,
            )
    for name, _pk, _attributes, links in SCHEMAS:
        for link, to, via, reverse in links:
            Link.objects.create(
                schema=created[name], name=link, to=created[to], via=via, reverse=reverse
            )
    dynamic.bump()
    with connection.schema_editor() as editor:
        for name, *_rest in SCHEMAS:
            editor.create_model(dynamic.get_model(name))
    return created


def load():
    """Define the schemas and insert ROWS; returns {name: Schema}."""
    created = define()
    for name, _pk, _attributes, links in SCHEMAS:
        model = dynamic.get_model(name)
        renames = {via: f"{link}_id" for link, _to, via, _rev in links}
        model.objects.bulk_create(
            [model(**{renames.get(k, k): v for k, v in row.items()}) for row in ROWS[name]]
        )
    return created


def sql_keys(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return sorted(row[0] for row in cursor.fetchall())


def customers_where(condition):
    """Hand-written SQL: customer keys (alias c) where ``condition`` holds."""
    return sql_keys(f"SELECT c.customer_id FROM data_customer c WHERE {condition}")


def customers_where_not(condition):
    return sql_keys(
        f"SELECT c.customer_id FROM data_customer c WHERE NOT COALESCE(({condition}), false)"
    )
