"""The demo data set of a retail brand (``manage.py seed_demo``): its schemas and deterministic CSV
files, written in chunks so that memory does not grow with the number of profiles.

Everything depends only on ``seed`` and ``profiles``: the same arguments give byte-identical files.
Dates fall in the three years before ``UNTIL`` (fixed, so the files never change with the day).
Distributions: purchase counts per customer are skewed (a few customers buy a lot; about 10 per
customer on average), 6% of customers have no email, 1% an invalid one (no ``@``), 0.5% share
another customer's email, 15% have no phone, 1% an invalid phone; 30% have a push token; 30% have
a subscription, a third of them ended.
"""

import datetime
import random

from django.dispatch import Signal

# Sent by ``seed_demo`` once the data set is in, with ``profiles=N``; other apps (campaigns)
# connect to it to add their examples, so audiences never imports them.
demo_seeded = Signal()

UNTIL = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
SPAN_SECONDS = 3 * 365 * 86400
CHUNK = 50_000

FIRST = (
    "Emma Louis Lea Hugo Chloe Jules Manon Adam Ines Gabriel Jade Arthur Alice Noah Lina Paul "
    "Mia Leo Sofia Ethan Anna Lucas Laura Tom Julia Max Clara Ben Nina Felix Sarah Oscar"
).split()
LAST = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Muller "
    "Schmidt Schneider Fischer Weber Meyer Wagner Smith Johnson Williams Brown Jones Garcia Miller"
).split()
PLACES = {
    "FR": ["Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes"],
    "DE": ["Berlin", "Hamburg", "Munich", "Cologne"],
    "US": ["New York", "Chicago", "Austin", "Seattle", "Boston"],
    "GB": ["London", "Leeds", "Bristol"],
    "ES": ["Madrid", "Barcelona", "Valencia"],
    "IT": ["Rome", "Milan", "Turin"],
}
COUNTRIES = list(PLACES)
COUNTRY_WEIGHTS = [40, 15, 20, 10, 8, 7]
CATEGORIES = ["shoes", "shirts", "trousers", "dresses", "bags", "accessories", "sport", "kids"]
PLANS = ["basic", "plus", "premium"]


def _string(name, **extra):
    return {"name": name, "type": "string", **extra}


def document():
    """The five schemas (design 5.1)."""
    return {
        "schemas": [
            {
                "name": "store",
                "label": "Stores",
                "primary_key": "store_id",
                "attributes": [
                    _string("store_id"),
                    _string("name"),
                    _string("city"),
                    _string("country", enum=COUNTRIES),
                ],
            },
            {
                "name": "product",
                "label": "Products",
                "primary_key": "product_id",
                "attributes": [
                    _string("product_id"),
                    _string("name"),
                    _string("category", enum=CATEGORIES, indexed=True),
                    {"name": "price", "type": "decimal", "precision": 10, "scale": 2},
                ],
            },
            {
                "name": "customer",
                "label": "Customers",
                "primary_key": "customer_id",
                "version_field": "updated_at",
                "targeting": {"email": "email", "sms": "phone", "push": "push_token"},
                "attributes": [
                    _string("customer_id"),
                    _string("first_name"),
                    _string("last_name"),
                    _string("email", indexed=True),
                    _string("phone"),
                    _string("push_token"),
                    _string("country", enum=COUNTRIES, indexed=True),
                    _string("city"),
                    {"name": "birth_date", "type": "date"},
                    {"name": "loyalty_points", "type": "integer"},
                    _string("store_id"),
                    {"name": "updated_at", "type": "datetime"},
                ],
                "links": [
                    {"name": "store", "to": "store", "via": "store_id", "reverse": "customers"}
                ],
            },
            {
                "name": "purchase",
                "label": "Purchases",
                "primary_key": "purchase_id",
                "attributes": [
                    {"name": "purchase_id", "type": "integer"},
                    _string("customer_id"),
                    _string("product_id"),
                    _string("store_id"),
                    {"name": "amount", "type": "decimal", "precision": 10, "scale": 2},
                    {"name": "purchased_at", "type": "datetime", "indexed": True},
                ],
                "links": [
                    {
                        "name": "customer",
                        "to": "customer",
                        "via": "customer_id",
                        "reverse": "purchases",
                    },
                    {
                        "name": "product",
                        "to": "product",
                        "via": "product_id",
                        "reverse": "purchases",
                    },
                    {"name": "store", "to": "store", "via": "store_id", "reverse": "purchases"},
                ],
            },
            {
                "name": "subscription",
                "label": "Subscriptions",
                "primary_key": "subscription_id",
                "attributes": [
                    _string("subscription_id"),
                    _string("customer_id"),
                    _string("plan", enum=PLANS),
                    _string("status", enum=["active", "paused", "cancelled"]),
                    {"name": "started_at", "type": "date"},
                    {"name": "ended_at", "type": "date"},
                ],
                "links": [
                    {
                        "name": "customer",
                        "to": "customer",
                        "via": "customer_id",
                        "reverse": "subscriptions",
                    }
                ],
            },
        ]
    }


def sizes(profiles):
    """Row counts of each file for ``profiles`` customers."""
    return {
        "store": max(5, min(2000, profiles // 500)),
        "product": max(50, min(20000, profiles // 100)),
        "customer": profiles,
        "purchase": profiles * 10,
        "subscription": profiles * 3 // 10,
    }


def _when(rng):
    moment = UNTIL - datetime.timedelta(seconds=rng.randrange(SPAN_SECONDS))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path, header, rows):
    with open(path, "w", newline="") as out:
        out.write(header + "\n")
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                out.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            out.write("\n".join(chunk) + "\n")


def _stores(rng, n):
    for i in range(n):
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        city = rng.choice(PLACES[country])
        yield f"s{i:05d},{city} #{i},{city},{country}"


def _products(rng, n):
    for i in range(n):
        category = rng.choice(CATEGORIES)
        yield f"p{i:06d},{category.capitalize()} {i},{category},{rng.randint(500, 25000) / 100:.2f}"


def _email(rng, first, last, i, previous):
    draw = rng.random()
    if draw < 0.06:
        return ""
    if draw < 0.07:
        return f"{first}.{last}{i}.example.com"  # invalid: no @
    if draw < 0.075 and previous:
        return previous  # shared with another customer
    return f"{first}.{last}{i}@example.com".lower()


def _phone(rng):
    draw = rng.random()
    if draw < 0.15:
        return ""
    if draw < 0.16:
        return "12"  # invalid
    return f"+33{rng.randrange(600000000, 799999999)}"


def _customers(rng, n, stores):
    previous = ""
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        email = _email(rng, first, last, i, previous)
        previous = email or previous
        token = f"tok{rng.getrandbits(64):016x}" if rng.random() < 0.3 else ""
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(24000))
        points = int(rng.paretovariate(1.5) * 100) - 100
        yield (
            f"c{i:07d},{first},{last},{email},{_phone(rng)},{token},{country},"
            f"{rng.choice(PLACES[country])},{birth.isoformat()},{points},"
            f"s{rng.randrange(stores):05d},{_when(rng)}"
        )


def _purchases(rng, n, customers, products, stores):
    for i in range(n):
        # u ** 2.5 puts most purchases on few customers (skewed counts, mean n / customers).
        customer = int(customers * rng.random() ** 2.5)
        yield (
            f"{i + 1},c{customer:07d},p{rng.randrange(products):06d},s{rng.randrange(stores):05d},"
            f"{rng.randint(100, 40000) / 100:.2f},{_when(rng)}"
        )


def _subscriptions(rng, n, customers):
    for i in range(n):
        start = UNTIL.date() - datetime.timedelta(days=rng.randrange(3 * 365))
        status = rng.choices(["active", "paused", "cancelled"], [60, 7, 33])[0]
        end = ""
        if status == "cancelled":
            end = (start + datetime.timedelta(days=rng.randrange(30, 700))).isoformat()
        yield (
            f"sub{i:07d},c{rng.randrange(customers):07d},{rng.choice(PLANS)},{status},"
            f"{start.isoformat()},{end}"
        )


HEADERS = {
    "store": "store_id,name,city,country",
    "product": "product_id,name,category,price",
    "customer": "customer_id,first_name,last_name,email,phone,push_token,country,city,"
    "birth_date,loyalty_points,store_id,updated_at",
    "purchase": "purchase_id,customer_id,product_id,store_id,amount,purchased_at",
    "subscription": "subscription_id,customer_id,plan,status,started_at,ended_at",
}
ORDER = ["store", "product", "customer", "purchase", "subscription"]


def write_file(name, directory, *, profiles, seed):
    """Write ``<directory>/<name>.csv``; each file has its own generator, so any one can be written
    alone and is the same as when all are. Returns the path."""
    n = sizes(profiles)
    rng = random.Random(f"{seed}-{name}")
    rows = {
        "store": lambda: _stores(rng, n["store"]),
        "product": lambda: _products(rng, n["product"]),
        "customer": lambda: _customers(rng, n["customer"], n["store"]),
        "purchase": lambda: _purchases(rng, n["purchase"], profiles, n["product"], n["store"]),
        "subscription": lambda: _subscriptions(rng, n["subscription"], profiles),
    }[name]()
    path = f"{directory}/{name}.csv"
    _write(path, HEADERS[name], rows)
    return path
