"""A small ``contacts`` schema for the deduplication, combine and split tests: emails that differ
by case or spaces, phones that differ by punctuation, nulls and empty texts."""

import pytest
from django.db import connection

ROWS = [
    # key, email, phone, score, plan, joined
    ("k1", "Ann@Example.com", "+33 6 12", 5, "gold", "2026-01-01"),
    ("k2", " ann@example.com ", "33612", 9, "silver", "2026-01-02"),
    ("k3", "ann@example.com", None, None, "bronze", None),
    ("k4", None, "0612", 3, "gold", "2026-01-04"),
    ("k5", None, None, 1, None, "2026-01-05"),
    ("k6", "", "+33-612", 2, "gold", "2026-01-06"),
    ("k7", "bob@example.com", "x", 7, "silver", "2026-01-07"),
    ("k8", "bob@example.com", "", 7, "gold", "2026-01-08"),
]


@pytest.fixture
def contacts(db):
    from audiences.services.schemas import create_schemas

    (schema,) = create_schemas(
        document={
            "name": "contacts",
            "primary_key": "contact_id",
            "attributes": [
                {"name": "contact_id", "type": "string"},
                {"name": "email", "type": "string"},
                {"name": "phone", "type": "string"},
                {"name": "score", "type": "integer"},
                {"name": "plan", "type": "string"},
                {"name": "joined", "type": "date"},
            ],
        }
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO data_contacts (contact_id, email, phone, score, plan, joined) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            ROWS,
        )
    return schema
