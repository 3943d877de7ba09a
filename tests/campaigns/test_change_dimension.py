"""``change_dimension`` against hand-written SQL on the rule data set (tests/audiences/rule_data:
nulls, a dangling store link, a purchase without customer)."""

import pytest
from django.db import connection
from django.db.models import F

from audiences import populations
from audiences.models import Schema
from campaigns.activities import registry
from tests.audiences import rule_data
from tests.campaigns.targeting import audience, errors, fetch, keys, rows, shape, sql_keys, step

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db):
    return rule_data.load()


def test_many_to_one_gives_each_linked_record_once_and_the_complement(data):
    with connection.cursor() as cursor:  # a purchase whose customer does not exist
        cursor.execute("INSERT INTO data_purchase (purchase_id, customer_ref) VALUES (8, 'c99')")
    purchases = audience("purchase")
    out, _ = step("change_dimension", {"link": "customer", "complement": True}, purchases)
    assert (
        keys(out["out"])
        == sql_keys(
            "SELECT DISTINCT c.customer_id FROM data_purchase p "
            "JOIN data_customer c ON c.customer_id = p.customer_ref"
        )
        == ["c1", "c2", "c4", "c5"]
    )
    assert out["out"].schema.name == "customer" and out["out"].count == 4
    assert (
        keys(out["complement"])
        == sql_keys(
            "SELECT p.purchase_id FROM data_purchase p WHERE NOT EXISTS "
            "(SELECT 1 FROM data_customer c WHERE c.customer_id = p.customer_ref)"
        )
        == [6, 8]
    )


def test_one_to_many_keeps_the_origin_columns(data):
    customers = populations.materialize(
        queryset=populations.members(
            audience("customer", {"field": "country", "op": "eq", "value": "FR"})
        ),
        schema=Schema.objects.get(name="customer"),
        columns={"pts": (F("points"), "integer")},
    )
    out, _ = step("change_dimension", {"link": "purchases"}, customers)
    expected = dict(
        fetch(
            "SELECT p.purchase_id, c.points FROM data_customer c JOIN data_purchase p "
            "ON p.customer_ref = c.customer_id WHERE c.country = 'FR'"
        )
    )
    assert {k: v["pts"] for k, v in rows(out["out"]).items()} == expected == {1: 10, 2: 10, 7: 10}
    assert out["complement"] is None, "complement off: the port carries nothing"


def test_a_null_or_dangling_link_goes_to_the_complement(data):
    out, _ = step("change_dimension", {"link": "store", "complement": True}, audience("customer"))
    assert keys(out["out"]) == ["s1", "s2"]
    assert (
        keys(out["complement"])
        == sql_keys(
            "SELECT c.customer_id FROM data_customer c LEFT JOIN data_store s "
            "ON s.store_id = c.shop WHERE s.store_id IS NULL"
        )
        == ["c3", "c4"]
    )


def test_paths_of_several_links(data):
    down, _ = step("change_dimension", {"link": "purchases.lines"}, audience("customer"))
    assert keys(down["out"]) == sql_keys(
        "SELECT l.line_id FROM data_line l JOIN data_purchase p ON p.purchase_id = l.purchase_ref "
        "JOIN data_customer c ON c.customer_id = p.customer_ref"
    )
    up, _ = step("change_dimension", {"link": "customer.store.region"}, audience("purchase"))
    assert keys(up["out"]) == ["r1"]


def test_empty_input_gives_empty_sets(data):
    nobody = audience("customer", {"field": "country", "op": "eq", "value": "ZZ"})
    out, _ = step("change_dimension", {"link": "purchases", "complement": True}, nobody)
    assert out["out"].count == 0 and out["complement"].count == 0


def test_outputs_say_which_columns_survive(data):
    kind_outputs = registry.get("change_dimension").outputs
    inbound = {"a": shape("customer", total="decimal")}
    assert kind_outputs({"link": "purchases"}, inbound)["out"] == shape("purchase", total="decimal")
    assert kind_outputs({"link": "store"}, inbound)["out"] == shape("store")
    assert kind_outputs({"link": "store"}, inbound)["complement"] == inbound["a"]


def test_validation_names_the_link_and_refuses_file_rows(data):
    from audiences.shapes import Shape

    assert errors("change_dimension", {"link": "purchases"}, shape("customer")) == set()
    assert errors("change_dimension", {"link": "nope"}, shape("customer")) == {
        ("a[0].link", "unknown link 'nope' of schema 'customer'")
    }
    assert errors("change_dimension", {"link": "purchases.nope"}, shape("customer")) == {
        ("a[0].link", "unknown link 'nope' of schema 'purchase'")
    }
    assert errors("change_dimension", {"link": None}, shape("customer")) == {
        ("a[0].link", "a value is required")
    }
    found = errors("change_dimension", {"link": "x"}, Shape.file({"email": "string"}))
    assert (
        "a[0]",
        "takes a population of a schema: reconcile the file's rows with one first",
    ) in found
