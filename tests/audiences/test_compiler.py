"""The rule compiler against hand-written SQL on the same data: every operator on every type it
accepts, nulls, records without related rows, ``not`` around each kind, links two levels deep."""

import pytest

from audiences.compiler import filter_records, queryset_for
from audiences.models import SavedAudience
from tests.audiences import rule_data
from tests.audiences.rule_data import NOW, NOW_SQL


def leaf(field, op, value=None):
    rule = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


# (rule, hand-written condition on data_customer c)
ATTRIBUTE_CASES = [
    # string
    (leaf("country", "eq", "FR"), "c.country = 'FR'"),
    (leaf("country", "ne", "FR"), "c.country <> 'FR'"),
    (leaf("country", "lt", "FR"), "c.country < 'FR'"),
    (leaf("country", "lte", "FR"), "c.country <= 'FR'"),
    (leaf("country", "gt", "DE"), "c.country > 'DE'"),
    (leaf("country", "gte", "FR"), "c.country >= 'FR'"),
    (leaf("country", "in", ["FR", "US"]), "c.country IN ('FR', 'US')"),
    (leaf("country", "not_in", ["FR", "US"]), "c.country NOT IN ('FR', 'US')"),
    (leaf("country", "between", ["DE", "FR"]), "c.country BETWEEN 'DE' AND 'FR'"),
    (leaf("country", "contains", "R"), "c.country LIKE '%R%'"),
    (leaf("country", "not_contains", "R"), "c.country NOT LIKE '%R%'"),
    (leaf("country", "starts_with", "U"), "c.country LIKE 'U%'"),
    (leaf("country", "ends_with", "E"), "c.country LIKE '%E'"),
    (leaf("country", "is_null"), "c.country IS NULL"),
    (leaf("country", "is_not_null"), "c.country IS NOT NULL"),
    # text
    (leaf("bio", "eq", "Nothing"), "c.bio = 'Nothing'"),
    (leaf("bio", "ne", "Nothing"), "c.bio <> 'Nothing'"),
    (leaf("bio", "contains", "shoes"), "c.bio LIKE '%shoes%'"),
    (leaf("bio", "not_contains", "shoes"), "c.bio NOT LIKE '%shoes%'"),
    (leaf("bio", "starts_with", "likes"), "c.bio LIKE 'likes%'"),
    (leaf("bio", "ends_with", "hats"), "c.bio LIKE '%hats'"),
    (leaf("bio", "in", ["Nothing", "x"]), "c.bio IN ('Nothing', 'x')"),
    (leaf("bio", "gt", "N"), "c.bio > 'N'"),
    (leaf("bio", "is_null"), "c.bio IS NULL"),
    # integer
    (leaf("points", "eq", 10), "c.points = 10"),
    (leaf("points", "ne", 10), "c.points <> 10"),
    (leaf("points", "lt", 10), "c.points < 10"),
    (leaf("points", "lte", 10), "c.points <= 10"),
    (leaf("points", "gt", 0), "c.points > 0"),
    (leaf("points", "gte", 10), "c.points >= 10"),
    (leaf("points", "in", [0, 50]), "c.points IN (0, 50)"),
    (leaf("points", "not_in", [0, 50]), "c.points NOT IN (0, 50)"),
    (leaf("points", "between", [1, 50]), "c.points BETWEEN 1 AND 50"),
    (leaf("points", "is_null"), "c.points IS NULL"),
    (leaf("points", "is_not_null"), "c.points IS NOT NULL"),
    # decimal
    (leaf("balance", "eq", "100.5"), "c.balance = 100.5"),
    (leaf("balance", "ne", 0), "c.balance <> 0"),
    (leaf("balance", "lt", 100.5), "c.balance < 100.5"),
    (leaf("balance", "lte", "100.50"), "c.balance <= 100.50"),
    (leaf("balance", "gt", 100), "c.balance > 100"),
    (leaf("balance", "gte", "999.99"), "c.balance >= 999.99"),
    (leaf("balance", "in", [0, "999.99"]), "c.balance IN (0, 999.99)"),
    (leaf("balance", "not_in", [0]), "c.balance NOT IN (0)"),
    (leaf("balance", "between", ["0.01", 999]), "c.balance BETWEEN 0.01 AND 999"),
    (leaf("balance", "is_null"), "c.balance IS NULL"),
    # float
    (leaf("score", "eq", 1.5), "c.score = 1.5"),
    (leaf("score", "ne", 0), "c.score <> 0"),
    (leaf("score", "lt", 0), "c.score < 0"),
    (leaf("score", "lte", 0), "c.score <= 0"),
    (leaf("score", "gt", -2), "c.score > -2"),
    (leaf("score", "gte", -2), "c.score >= -2"),
    (leaf("score", "in", [0, 1.5]), "c.score IN (0, 1.5)"),
    (leaf("score", "not_in", [0]), "c.score NOT IN (0)"),
    (leaf("score", "between", [-1, 2]), "c.score BETWEEN -1 AND 2"),
    (leaf("score", "is_not_null"), "c.score IS NOT NULL"),
    # boolean
    (leaf("vip", "eq", True), "c.vip = true"),
    (leaf("vip", "ne", True), "c.vip <> true"),
    (leaf("vip", "in", [False]), "c.vip IN (false)"),
    (leaf("vip", "not_in", [False]), "c.vip NOT IN (false)"),
    (leaf("vip", "is_null"), "c.vip IS NULL"),
    # date
    (leaf("birth", "eq", "2010-01-01"), "c.birth = DATE '2010-01-01'"),
    (leaf("birth", "ne", "2010-01-01"), "c.birth <> DATE '2010-01-01'"),
    (leaf("birth", "lt", "2008-06-16"), "c.birth < DATE '2008-06-16'"),
    (leaf("birth", "lte", "2008-06-16"), "c.birth <= DATE '2008-06-16'"),
    (leaf("birth", "gt", "2008-06-15"), "c.birth > DATE '2008-06-15'"),
    (leaf("birth", "gte", "2008-06-15"), "c.birth >= DATE '2008-06-15'"),
    (leaf("birth", "in", ["2010-01-01", "1990-05-01"]), "c.birth IN ('2010-01-01', '1990-05-01')"),
    (leaf("birth", "not_in", ["2010-01-01"]), "c.birth NOT IN ('2010-01-01')"),
    (
        leaf("birth", "between", ["2000-01-01", "2010-01-01"]),
        "c.birth BETWEEN '2000-01-01' AND '2010-01-01'",
    ),
    (leaf("birth", "lte", {"now": "-18y"}), "c.birth <= DATE '2008-06-15'"),
    (leaf("birth", "gt", {"now": "-216mo"}), "c.birth > DATE '2008-06-15'"),
    (leaf("birth", "in_last", "20y"), "c.birth >= DATE '2006-06-15'"),
    (leaf("birth", "not_in_last", "20y"), "c.birth < DATE '2006-06-15'"),
    (leaf("birth", "is_null"), "c.birth IS NULL"),
    # datetime
    (leaf("seen", "eq", "2026-06-10T10:00:00+00:00"), "c.seen = TIMESTAMPTZ '2026-06-10 10:00Z'"),
    (leaf("seen", "ne", "2026-06-10T10:00:00Z"), "c.seen <> TIMESTAMPTZ '2026-06-10 10:00Z'"),
    (leaf("seen", "lt", "2026-06-10T10:00:00Z"), "c.seen < TIMESTAMPTZ '2026-06-10 10:00Z'"),
    (leaf("seen", "lte", "2026-06-10T10:00:00Z"), "c.seen <= TIMESTAMPTZ '2026-06-10 10:00Z'"),
    (leaf("seen", "gt", {"now": "-2d"}), f"c.seen > {NOW_SQL} - interval '2 days'"),
    (leaf("seen", "gte", {"now": "-90min"}), f"c.seen >= {NOW_SQL} - interval '90 minutes'"),
    (leaf("seen", "in", ["2025-01-01T00:00:00Z"]), "c.seen IN (TIMESTAMPTZ '2025-01-01 00:00Z')"),
    (leaf("seen", "not_in", ["2025-01-01T00:00:00Z"]), "c.seen NOT IN ('2025-01-01 00:00Z')"),
    (
        leaf("seen", "between", ["2026-01-01T00:00:00Z", "2026-06-15T11:00:00Z"]),
        "c.seen BETWEEN '2026-01-01 00:00Z' AND '2026-06-15 11:00Z'",
    ),
    (leaf("seen", "in_last", "30d"), f"c.seen >= {NOW_SQL} - interval '30 days'"),
    (leaf("seen", "in_last", "2h"), f"c.seen >= {NOW_SQL} - interval '2 hours'"),
    (leaf("seen", "in_last", "1w"), f"c.seen >= {NOW_SQL} - interval '7 days'"),
    (leaf("seen", "in_last", "3600s"), f"c.seen >= {NOW_SQL} - interval '3600 seconds'"),
    (leaf("seen", "not_in_last", "30d"), f"c.seen < {NOW_SQL} - interval '30 days'"),
    (leaf("seen", "is_null"), "c.seen IS NULL"),
    # many-to-one paths, one and two levels (dangling and null links)
    (
        leaf("store.city", "eq", "Paris"),
        "c.shop IN (SELECT store_id FROM data_store WHERE city = 'Paris')",
    ),
    (
        leaf("store.city", "ne", "Paris"),
        "(SELECT city FROM data_store WHERE store_id = c.shop) <> 'Paris'",
    ),
    (
        leaf("store.city", "is_null"),
        "(SELECT city FROM data_store WHERE store_id = c.shop) IS NULL",
    ),
    (
        leaf("store.region.name", "eq", "North"),
        "(SELECT r.name FROM data_store s JOIN "
        "data_region r ON r.region_id = s.region_ref WHERE s.store_id = c.shop) = 'North'",
    ),
    (
        leaf("store.region.name", "is_null"),
        "(SELECT r.name FROM data_store s JOIN "
        "data_region r ON r.region_id = s.region_ref WHERE s.store_id = c.shop) IS NULL",
    ),
    (leaf("shop", "eq", "s9"), "c.shop = 's9'"),
    # combinations
    ({"and": []}, "true"),
    ({"or": []}, "false"),
    (
        {
            "or": [
                leaf("country", "eq", "DE"),
                {"and": [leaf("points", "eq", 10), leaf("vip", "eq", True)]},
            ]
        },
        "c.country = 'DE' OR (c.points = 10 AND c.vip)",
    ),
]

PURCHASES_OF_C = "FROM data_purchase p WHERE p.customer_ref = c.customer_id"
RELATED_CASES = [
    ({"exists": "purchases"}, f"EXISTS (SELECT 1 {PURCHASES_OF_C})"),
    (
        {"exists": "purchases", "where": leaf("at", "in_last", "30d")},
        f"EXISTS (SELECT 1 {PURCHASES_OF_C} AND p.at >= {NOW_SQL} - interval '30 days')",
    ),
    (
        {"exists": "store", "where": leaf("city", "eq", "Berlin")},
        "EXISTS (SELECT 1 FROM data_store s WHERE s.store_id = c.shop AND s.city = 'Berlin')",
    ),
    (  # two levels: purchases -> lines, with a many-to-one path at the end
        {
            "exists": "purchases",
            "where": {"exists": "lines", "where": leaf("product.category", "eq", "Shoes")},
        },
        f"EXISTS (SELECT 1 {PURCHASES_OF_C} AND EXISTS (SELECT 1 FROM data_line l JOIN "
        "data_product pr ON pr.product_id = l.product_ref WHERE l.purchase_ref = p.purchase_id "
        "AND pr.category = 'Shoes'))",
    ),
    (
        {"aggregate": "count", "link": "purchases", "op": "gte", "value": 2},
        f"(SELECT count(*) {PURCHASES_OF_C}) >= 2",
    ),
    (
        {"aggregate": "count", "link": "purchases", "op": "eq", "value": 0},
        f"(SELECT count(*) {PURCHASES_OF_C}) = 0",
    ),
    (
        {"aggregate": "count", "link": "purchases", "op": "lt", "value": 2},
        f"(SELECT count(*) {PURCHASES_OF_C}) < 2",
    ),
    (
        {"aggregate": "count", "link": "purchases", "op": "ne", "value": 1},
        f"(SELECT count(*) {PURCHASES_OF_C}) <> 1",
    ),
    (
        {"aggregate": "sum", "link": "purchases", "field": "amount", "op": "gt", "value": 500},
        f"(SELECT coalesce(sum(p.amount), 0) {PURCHASES_OF_C}) > 500",
    ),
    (
        {"aggregate": "sum", "link": "purchases", "field": "amount", "op": "lte", "value": 100},
        f"(SELECT coalesce(sum(p.amount), 0) {PURCHASES_OF_C}) <= 100",
    ),
    (
        {
            "aggregate": "sum",
            "link": "purchases",
            "field": "amount",
            "op": "between",
            "value": [0, 300],
            "where": leaf("at", "in_last", "1y"),
        },
        f"(SELECT coalesce(sum(p.amount), 0) {PURCHASES_OF_C} AND p.at >= {NOW_SQL} - "
        "interval '1 year') BETWEEN 0 AND 300",
    ),
    (
        {"aggregate": "avg", "link": "purchases", "field": "amount", "op": "gt", "value": 200},
        f"(SELECT avg(p.amount) {PURCHASES_OF_C}) > 200",
    ),
    (
        {"aggregate": "min", "link": "purchases", "field": "amount", "op": "lt", "value": 200},
        f"(SELECT min(p.amount) {PURCHASES_OF_C}) < 200",
    ),
    (
        {"aggregate": "max", "link": "purchases", "field": "at", "op": "in_last", "value": "30d"},
        f"(SELECT max(p.at) {PURCHASES_OF_C}) >= {NOW_SQL} - interval '30 days'",
    ),
    (
        {"aggregate": "max", "link": "purchases", "field": "amount", "op": "is_null"},
        f"(SELECT max(p.amount) {PURCHASES_OF_C}) IS NULL",
    ),
    (  # aggregate over a link two levels deep: customers' purchases with lines of Shoes
        {
            "aggregate": "sum",
            "link": "purchases",
            "field": "amount",
            "op": "gte",
            "value": 300,
            "where": {"exists": "lines", "where": leaf("product.category", "eq", "Shoes")},
        },
        f"(SELECT coalesce(sum(p.amount), 0) {PURCHASES_OF_C} AND EXISTS (SELECT 1 FROM "
        "data_line l JOIN data_product pr ON pr.product_id = l.product_ref WHERE "
        "l.purchase_ref = p.purchase_id AND pr.category = 'Shoes')) >= 300",
    ),
    (  # an aggregate nested in exists: purchases with at least 2 lines
        {
            "exists": "purchases",
            "where": {"aggregate": "count", "link": "lines", "op": "gte", "value": 2},
        },
        f"EXISTS (SELECT 1 {PURCHASES_OF_C} AND (SELECT count(*) FROM data_line l WHERE "
        "l.purchase_ref = p.purchase_id) >= 2)",
    ),
    (
        {
            "exists": "purchases",
            "where": {"aggregate": "sum", "link": "lines", "field": "qty", "op": "lt", "value": 3},
        },
        f"EXISTS (SELECT 1 {PURCHASES_OF_C} AND (SELECT coalesce(sum(l.qty), 0) FROM data_line l "
        "WHERE l.purchase_ref = p.purchase_id) < 3)",
    ),
]
CASES = ATTRIBUTE_CASES + RELATED_CASES


def _keys(where):
    return sorted(
        queryset_for(schema="customer", where=where, now=NOW).values_list("pk", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("rule,condition", CASES, ids=[str(i) for i in range(len(CASES))])
def test_rule_matches_hand_written_sql(rule, condition):
    rule_data.load()
    assert _keys(rule) == rule_data.customers_where(condition)
    assert _keys({"not": rule}) == rule_data.customers_where_not(condition)


@pytest.mark.django_db
def test_in_audience_rule_and_snapshot_and_not():
    schemas = rule_data.load()
    SavedAudience.objects.create(
        name="french", schema=schemas["customer"], where=leaf("country", "eq", "FR")
    )
    assert _keys({"in_audience": "french"}) == ["c1", "c5"]
    assert _keys({"not": {"in_audience": "french"}}) == ["c2", "c3", "c4"]
    from audiences import populations

    pop = populations.from_rule(
        schema=schemas["customer"], where=leaf("points", "gte", 10), now=NOW
    )
    SavedAudience.objects.create(
        name="loyal", schema=schemas["customer"], kind="snapshot", population=pop
    )
    assert _keys({"in_audience": "loyal"}) == ["c1", "c4", "c5"]
    assert _keys({"and": [{"in_audience": "loyal"}, {"not": {"in_audience": "french"}}]}) == ["c4"]


@pytest.mark.django_db
def test_values_and_evaluation_time_are_bound_parameters():
    rule_data.load()
    queryset = queryset_for(
        schema="customer",
        where={
            "and": [leaf("country", "eq", "FR'; DROP TABLE x; --"), leaf("seen", "in_last", "30d")]
        },
        now=NOW,
    )
    sql, params = queryset.query.sql_with_params()
    assert "DROP" not in sql and "2026" not in sql and "now()" not in sql.lower()
    assert "FR'; DROP TABLE x; --" in params
    assert list(queryset) == []


@pytest.mark.django_db
def test_filter_records_for_a_model():
    rule_data.load()
    from audiences import dynamic

    model = dynamic.get_model("purchase")
    got = filter_records(model, {"field": "customer.country", "op": "eq", "value": "FR"}, now=NOW)
    assert sorted(got.values_list("pk", flat=True)) == [1, 2, 7]
