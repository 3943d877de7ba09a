"""Populations: pop_<id> tables written by one INSERT ... SELECT, read back, combined, split."""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from audiences import dynamic, populations
from audiences.models import Population
from tests.audiences import rule_data
from tests.audiences.rule_data import NOW


def keys(population):
    return rule_data.sql_keys(f"SELECT key FROM pop_{population.pk}")


def rule(field, op, value=None):
    return {"field": field, "op": op, **({"value": value} if value is not None else {})}


@pytest.fixture
def schemas(db):
    return rule_data.load()


def test_from_rule_materializes_keys_count_and_analyzes(schemas):
    pop = populations.from_rule(schema=schemas["customer"], where=rule("country", "eq", "FR"))
    assert keys(pop) == ["c1", "c5"] and pop.count == 2
    pop.refresh_from_db()
    assert pop.count == 2 and pop.schema.name == "customer"
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [pop.table_name])
        assert cursor.fetchone()[0] == 2  # analyzed
    assert sorted(populations.members(pop).values_list("pk", flat=True)) == ["c1", "c5"]


def test_added_columns_rows_and_target_alias_within(schemas):
    customer = dynamic.get_model("customer")
    pop = populations.materialize(
        queryset=customer.objects.all(),
        schema=schemas["customer"],
        columns={"total": (F("balance"), "decimal"), "pts": (F("points") * 2, "integer")},
    )
    assert pop.count == 5 and [c["column"] for c in pop.columns] == ["c_1", "c_2"]
    page = populations.rows(pop, limit=2, columns=["country", "store.city"])
    assert page == [
        {
            "key": "c1",
            "total": rule_data.CUSTOMERS[0]["balance"],
            "pts": 20,
            "country": "FR",
            "store.city": "Paris",
        },
        {"key": "c2", "total": 0, "pts": 0, "country": "DE", "store.city": "Berlin"},
    ]
    assert [r["key"] for r in populations.rows(pop, offset=3)] == ["c4", "c5"]
    within = populations.from_rule(
        schema=schemas["customer"],
        where={"and": [rule("target.total", "gt", 50), rule("target.pts", "ne", 100)]},
        within=pop,
    )
    # by hand: total > 50 and pts <> 100 (nulls never match)
    expected = rule_data.customers_where("c.balance > 50 AND c.points * 2 <> 100")
    assert keys(within) == expected == ["c1"]
    negated = populations.from_rule(
        schema=schemas["customer"], where={"not": rule("target.total", "gt", 50)}, within=pop
    )
    assert keys(negated) == ["c2", "c3", "c5"]


def test_target_alias_refused_without_population(schemas):
    from config.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        populations.from_rule(schema=schemas["customer"], where=rule("target.total", "gt", 1))
    assert info.value.errors[0]["path"] == "where.field"


def test_combine_each_operation(schemas):
    customer = schemas["customer"]
    french = populations.from_rule(schema=customer, where=rule("country", "eq", "FR"))
    loyal = populations.from_rule(schema=customer, where=rule("points", "gte", 10))
    seen = populations.from_rule(schema=customer, where=rule("seen", "is_not_null"))
    union = populations.combine(operation="union", populations=[french, loyal, seen])
    assert keys(union) == ["c1", "c2", "c4", "c5"] and union.count == 4
    inter = populations.combine(operation="intersection", populations=[french, loyal])
    assert keys(inter) == ["c1", "c5"]
    minus = populations.combine(operation="exclusion", populations=[loyal, french, seen])
    assert keys(minus) == [] and minus.count == 0
    assert keys(populations.combine(operation="exclusion", populations=[loyal, seen])) == ["c5"]


def test_subset_limits_orders_and_keeps_columns(schemas):
    customer = dynamic.get_model("customer")
    pop = populations.materialize(
        queryset=customer.objects.all(),
        schema=schemas["customer"],
        columns={"total": (F("balance"), "decimal")},
    )
    top = populations.subset(population=pop, limit={"count": 3}, order_by="-target.total")
    assert keys(top) == ["c1", "c2", "c4"]  # 999.99, 100.50, 0 (nulls last)
    assert top.columns[0]["name"] == "total"
    ties = populations.subset(population=pop, limit={"count": 2}, order_by="-points")
    assert keys(ties) == ["c1", "c4"]  # 50, then the 10s broken by key
    half = populations.subset(
        population=pop, where=rule("country", "is_not_null"), limit={"percent": 50}
    )
    assert half.count == 2  # 50 % of 4 matching
    first = populations.subset(population=pop, limit={"count": 2}, seed="s1")
    again = populations.subset(population=pop, limit={"count": 2}, seed="s1")
    assert keys(first) == keys(again)
    expected = rule_data.sql_keys(
        f"SELECT key FROM pop_{pop.pk} ORDER BY md5('s1' || key::text), key LIMIT 2"
    )
    assert keys(first) == expected


def test_with_columns_copy_drop_and_purge(schemas):
    pop = populations.from_rule(schema=schemas["customer"], where=rule("points", "gte", 10))
    enriched = populations.with_columns(
        population=pop, columns={"city": (F("store__city"), "string")}
    )
    assert [(r["key"], r["city"]) for r in populations.rows(enriched)] == [
        ("c1", "Paris"),
        ("c4", None),
        ("c5", "Paris"),
    ]
    copy = populations.copy_keys(population=enriched)
    assert keys(copy) == ["c1", "c4", "c5"]
    old = timezone.now() - datetime.timedelta(days=30)
    Population.objects.filter(pk__in=[pop.pk, copy.pk]).update(created_at=old)
    Population.objects.filter(pk=copy.pk).update(keep=True)
    assert populations.purge() == 1
    assert not Population.objects.filter(pk=pop.pk).exists()
    assert rule_data.sql_keys(
        "SELECT count(*) FROM pg_class WHERE relname = %s", [f"pop_{pop.pk}"]
    ) == [0]
    populations.drop(enriched)
    assert set(Population.objects.values_list("pk", flat=True)) == {copy.pk}


def test_materialize_is_one_insert_select(schemas):
    from django.test.utils import CaptureQueriesContext

    customer = dynamic.get_model("customer")
    with CaptureQueriesContext(connection) as queries:
        pop = populations.from_rule(
            schema=schemas["customer"], where={"exists": "purchases"}, now=NOW
        )
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO pop_" in q["sql"]]
    assert len(inserts) == 1 and "SELECT" in inserts[0] and "EXISTS" in inserts[0]
    assert not any(
        q["sql"].startswith("SELECT") and "data_customer" in q["sql"]
        for q in queries.captured_queries
    )  # no key fetched into Python
    assert pop.count == 4 and keys(pop) == ["c1", "c2", "c4", "c5"]
    assert customer.objects.filter(pk__in=populations.members(pop).values("pk")).count() == 4
