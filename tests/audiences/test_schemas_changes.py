"""Schema changes on real tables: alteration in place keeps data, type conversion converts or is
refused with examples, DDL gives up on a busy table, and another process sees a change at once."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from audiences import dynamic
from audiences.services.schemas import add_to_schema, create_schemas
from config.errors import Conflict, ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
STORE = {
    "name": "store",
    "primary_key": "store_id",
    "attributes": [
        {"name": "store_id", "type": "string"},
        {"name": "code", "type": "string", "indexed": True},
        {"name": "size", "type": "string"},
    ],
}


@pytest.fixture
def committed_schemas(transactional_db):
    """For tests that commit: drop the data tables afterwards (flushing keeps them)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'data\\_%%'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE "{table}"')


def paths(caught):
    return {error["path"]: error["message"] for error in caught.value.errors}


@pytest.fixture
def store(db):
    create_schemas(document=STORE)
    model = dynamic.get_model("store")
    model.objects.create(store_id="s1", code="12", size="1.5")
    model.objects.create(store_id="s2", code="007", size="x")
    return model


def test_adding_attributes_alters_in_place_and_keeps_data(store):
    add_to_schema(name="store", document={"attributes": [{"name": "opened", "type": "date"}]})
    model = dynamic.get_model("store")
    assert sorted(model.objects.values_list("store_id", "code", "opened")) == [
        ("s1", "12", None),
        ("s2", "007", None),
    ]


def test_a_required_attribute_cannot_be_added_to_a_filled_table(store):
    with pytest.raises(ValidationFailed) as caught:
        add_to_schema(
            name="store",
            document={"attributes": [{"name": "opened", "type": "date", "required": True}]},
        )
    assert "attributes[0].required" in paths(caught)


def test_a_type_converts_when_every_value_does(store):
    add_to_schema(name="store", document={"attributes": [{"name": "code", "type": "integer"}]})
    model = dynamic.get_model("store")
    assert sorted(model.objects.values_list("code", flat=True)) == [7, 12]
    assert model.objects.filter(code__gt=10).count() == 1


def test_a_type_change_is_refused_showing_values_that_do_not_convert(store):
    with pytest.raises(ValidationFailed) as caught:
        add_to_schema(
            name="store",
            document={"attributes": [{"name": "size", "type": "decimal", "precision": 4}]},
        )
    assert "'x'" in paths(caught)["attributes[0].type"]
    # Nothing changed: the column and the metadata are as before.
    dynamic.ensure_current()
    assert sorted(dynamic.get_model("store").objects.values_list("size", flat=True)) == ["1.5", "x"]


def test_a_link_via_type_change_is_refused(store):
    create_schemas(
        document={
            "name": "customer",
            "primary_key": "customer_id",
            "attributes": [
                {"name": "customer_id", "type": "string"},
                {"name": "shop", "type": "string"},
            ],
            "links": [{"name": "store", "to": "store", "via": "shop"}],
        }
    )
    with pytest.raises(ValidationFailed) as caught:
        add_to_schema(
            name="customer", document={"attributes": [{"name": "shop", "type": "integer"}]}
        )
    assert "attributes[0].type" in paths(caught)
    with pytest.raises(ValidationFailed) as caught:
        add_to_schema(
            name="store", document={"attributes": [{"name": "store_id", "type": "integer"}]}
        )
    assert "needs the primary key" in paths(caught)["attributes[0].type"]


def _other_connection():
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=False,
    )


def test_ddl_on_a_busy_table_fails_quickly_and_clearly(settings, committed_schemas):
    create_schemas(document=STORE)
    settings.DDL_LOCK_TIMEOUT = "300ms"
    reader = _other_connection()
    try:
        reader.execute("SELECT count(*) FROM data_store")  # holds ACCESS SHARE until rollback
        started = time.monotonic()
        with pytest.raises(Conflict) as caught:
            add_to_schema(name="store", document={"attributes": [{"name": "x", "type": "text"}]})
        assert time.monotonic() - started < 5
        assert "in use" in str(caught.value.detail)
    finally:
        reader.rollback()
        reader.close()
    assert "x" not in [f.name for f in dynamic.get_model("store")._meta.fields]


WORKER = """
import sys, django
django.setup()
from audiences import dynamic
for line in sys.stdin:
    dynamic.ensure_current()
    print(",".join(f.name for f in dynamic.get_model("store")._meta.fields), flush=True)
"""


@pytest.mark.workers
def test_a_running_worker_process_sees_a_new_attribute_without_restart(committed_schemas):
    create_schemas(document=STORE)
    settings = connection.settings_dict
    url = (
        f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}"
        f"/{settings['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(60, worker.kill)
    timer.start()
    try:
        worker.stdin.write("check\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == "store_id,code,size"
        add_to_schema(name="store", document={"attributes": [{"name": "city", "type": "string"}]})
        worker.stdin.write("check\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == "store_id,code,size,city"
    finally:
        timer.cancel()
        worker.stdin.close()
        worker.wait(timeout=10)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "db_type", ["bigint", "double precision", "numeric(6, 2)", "numeric(4, 4)"]
)
def test_the_cheap_prefilter_never_accepts_what_postgresql_refuses(db_type):
    from audiences.ddl import _surely_converts

    samples = ["12", " -7 ", "+3", "1.5", ".5", "1e5", "9" * 19, "1234.56", "12345.6", "1.234",
               "x", "", "1e999", "0." + "0" * 250 + "1", "1" * 201, "0.12", "99.999"]  # fmt: skip
    pattern = _surely_converts(db_type)
    accepted = 0
    with connection.cursor() as cursor:
        for sample in samples:
            cursor.execute("SELECT %s ~ %s", [sample, pattern or "^$x"])
            if cursor.fetchone()[0]:
                accepted += 1
                cursor.execute(f"SELECT %s::{db_type}", [sample])  # must not raise
    assert accepted >= 3 if pattern else accepted == 0


@pytest.mark.django_db
def test_a_leftover_table_is_refused_clearly():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE data_store (x int)")
    with pytest.raises(Conflict, match="already exists"):
        create_schemas(document=STORE)
    with pytest.raises(KeyError):
        dynamic.get_model("store")


def test_concurrent_definitions_are_serialized(committed_schemas):
    from django.db import connections

    outcomes, barrier = [], threading.Barrier(2)

    def define():
        try:
            barrier.wait(timeout=10)
            create_schemas(document=STORE)
            outcomes.append("created")
        except ValidationFailed as exc:
            outcomes.append(exc.errors[0]["message"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=define) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["a schema named 'store' already exists", "created"]


def test_making_an_attribute_required_needs_every_record_to_have_it(store):
    add_to_schema(
        name="store",
        document={"attributes": [{"name": "code", "type": "string", "required": True}]},
    )
    store.objects.create(store_id="s3", code="9")
    store.objects.create(store_id="s4", code="10", size=None)
    with pytest.raises(ValidationFailed) as caught:
        add_to_schema(
            name="store",
            document={"attributes": [{"name": "size", "type": "string", "required": True}]},
        )
    assert "no value" in paths(caught)["attributes[0].required"]
