"""Fixtures of the channel tests: a customer schema linked to stores, a real SMTP server and a
real HTTP server on loopback, and worker processes configured to send to them."""

import uuid

import pytest
from django.db import connection

from tests.campaigns.conftest import Engine, final_run, wait_for  # noqa: F401
from tests.channels.servers import HTTPSink, SMTPSink


@pytest.fixture
def smtp():
    sink = SMTPSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def http_sink():
    sink = HTTPSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def shop(transactional_db):
    """Schemas ``shop_<hex>`` (stores) and ``buyer_<hex>`` (customers with email, phone, push
    token and a store link), 20 customers; dropped after."""
    from audiences.services.schemas import create_schemas

    tag = uuid.uuid4().hex[:6]
    store, buyer = f"shop_{tag}", f"buyer_{tag}"
    create_schemas(
        document={
            "schemas": [
                {
                    "name": store,
                    "primary_key": "store_id",
                    "attributes": [
                        {"name": "store_id", "type": "string"},
                        {"name": "city", "type": "string"},
                    ],
                },
                {
                    "name": buyer,
                    "primary_key": "customer_id",
                    "targeting": {"email": "email", "sms": "phone", "push": "token"},
                    "attributes": [
                        {"name": "customer_id", "type": "string"},
                        {"name": "first_name", "type": "string"},
                        {"name": "email", "type": "string"},
                        {"name": "phone", "type": "string"},
                        {"name": "token", "type": "string"},
                        {"name": "points", "type": "integer"},
                        {"name": "store_id", "type": "string"},
                    ],
                    "links": [{"name": "store", "to": store, "via": "store_id"}],
                },
            ]
        }
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO data_{store} VALUES ('s1', 'Paris'), ('s2', 'Lyon')")
        cursor.execute(
            f"INSERT INTO data_{buyer} SELECT 'c' || lpad(i::text, 3, '0'), 'Ann' || i, "
            "'c' || i || '@example.com', '+3361234' || lpad(i::text, 4, '0'), 'tok' || i, "
            "i * 10, CASE WHEN i % 2 = 0 THEN 's1' ELSE 's2' END FROM generate_series(1, 20) i"
        )
    from audiences.models import Schema

    yield Schema.objects.get(name=buyer)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS data_{buyer} CASCADE")
        cursor.execute(f"DROP TABLE IF EXISTS data_{store} CASCADE")


def sending_engine(smtp=None, http_sink=None, **env):
    """An ``Engine`` whose workers send email to ``smtp`` and SMS/push to ``http_sink``."""
    engine = Engine()
    engine.flush_redis()
    engine.env.update({"SEND_LEASE_SECONDS": "4", "SEND_RETRY_SECONDS": "0.2"})
    if smtp is not None:
        engine.env.update(
            {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port), "EMAIL_TIMEOUT": "2"}
        )
    if http_sink is not None:
        for channel in ("SMS", "PUSH"):
            engine.env[f"{channel}_PROVIDER_URL"] = http_sink.url
            engine.env[f"{channel}_PROVIDER_TIMEOUT"] = "2"
    engine.env.update({k: str(v) for k, v in env.items()})
    return engine


@pytest.fixture
def senders(request, transactional_db):
    started = []

    def make(**kwargs):
        engine = sending_engine(**kwargs)
        started.append(engine)
        return engine

    yield make
    for engine in started:
        engine.stop()
        engine.flush_redis()
