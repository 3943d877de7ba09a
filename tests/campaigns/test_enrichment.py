"""``enrichment`` against hand-written SQL on the rule data set: many-to-one attributes (null and
dangling links), aggregates with filters (0 over nothing for count and sum), collected lines in
order with nulls last, columns of a loaded file joined by a key (duplicates, nulls), empty input,
validation at paths."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audiences.population_ops import enrich
from audiences.shapes import Shape
from campaigns import files
from campaigns.activities import registry
from config.access import SYSTEM
from tests.audiences import rule_data
from tests.campaigns.targeting import audience, errors, fetch, rows, shape, step

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db):
    return rule_data.load()


def column(population, alias):
    return {key: values[alias] for key, values in rows(population).items()}


def enriched(*columns, population=None):
    out, _ = step("enrichment", {"columns": list(columns)}, population or audience("customer"))
    return out["out"]


def test_many_to_one_attributes(data):
    out = enriched(
        {"alias": "city", "field": "store.city"}, {"alias": "region", "field": "store.region.name"}
    )
    assert (
        column(out, "city")
        == dict(
            fetch(
                "SELECT c.customer_id, s.city FROM data_customer c "
                "LEFT JOIN data_store s ON s.store_id = c.shop"
            )
        )
        == {"c1": "Paris", "c2": "Berlin", "c3": None, "c4": None, "c5": "Paris"}
    )
    assert column(out, "region") == {
        "c1": "North",
        "c2": None,
        "c3": None,
        "c4": None,
        "c5": "North",
    }
    assert out.columns[0]["type"] == "string"


def test_aggregates_with_filters(data):
    big = {"field": "amount", "op": "gt", "value": 100}
    out = enriched(
        {"alias": "n", "aggregate": "count", "link": "purchases"},
        {"alias": "total", "aggregate": "sum", "link": "purchases", "field": "amount"},
        {"alias": "big", "aggregate": "count", "link": "purchases", "where": big},
        {"alias": "mean", "aggregate": "avg", "link": "purchases", "field": "amount"},
        {"alias": "first", "aggregate": "min", "link": "purchases", "field": "at"},
        {"alias": "top", "aggregate": "max", "link": "purchases", "field": "amount"},
    )
    hand = {
        key: {"n": n, "total": total, "big": big_n, "top": top}
        for key, n, total, big_n, top in fetch(
            "SELECT c.customer_id, count(p.purchase_id), COALESCE(sum(p.amount), 0), "
            "count(p.purchase_id) FILTER (WHERE p.amount > 100), max(p.amount) FROM data_customer c "
            "LEFT JOIN data_purchase p ON p.customer_ref = c.customer_id GROUP BY c.customer_id"
        )
    }
    found = rows(out)
    assert {k: {a: v[a] for a in ("n", "total", "big", "top")} for k, v in found.items()} == hand
    assert found["c3"] == {"n": 0, "total": 0, "big": 0, "mean": None, "first": None, "top": None}
    assert found["c1"]["mean"] == Decimal("275.0000")
    assert found["c4"]["first"] == datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    types = {c["name"]: c["type"] for c in out.columns}
    assert types == {
        "n": "integer",
        "total": "decimal",
        "big": "integer",
        "mean": "decimal",
        "first": "datetime",
        "top": "decimal",
    }


def test_collect_the_latest_lines(data):
    out = enriched(
        {
            "alias": "last",
            "collect": 2,
            "link": "purchases",
            "fields": ["amount", "purchase_id"],
            "order_by": "-at",
        }
    )
    found = rows(out)
    assert [c["name"] for c in out.columns] == [
        "last1_amount",
        "last1_purchase_id",
        "last2_amount",
        "last2_purchase_id",
    ]
    assert found["c1"] == {
        "last1_amount": 300,
        "last1_purchase_id": 1,
        "last2_amount": 250,
        "last2_purchase_id": 2,
    }
    assert found["c5"] == {
        "last1_amount": 100,
        "last1_purchase_id": 7,
        "last2_amount": None,
        "last2_purchase_id": None,
    }
    assert found["c3"] == dict.fromkeys(found["c3"], None)
    hand = dict(
        fetch(
            "SELECT c.customer_id, (SELECT p.purchase_id FROM data_purchase p WHERE p.customer_ref = "
            "c.customer_id ORDER BY p.at DESC NULLS LAST, p.purchase_id LIMIT 1) FROM data_customer c"
        )
    )
    assert {k: v["last1_purchase_id"] for k, v in found.items()} == hand
    cheap = enriched(
        {
            "alias": "cheap",
            "collect": 1,
            "link": "purchases",
            "fields": ["amount"],
            "order_by": "amount",
            "where": {"field": "amount", "op": "lt", "value": 280},
        }
    )
    assert column(cheap, "cheap1_amount") == {
        "c1": 250,
        "c2": None,
        "c3": None,
        "c4": 10,
        "c5": 100,
    }


def test_columns_of_a_loaded_file_joined_by_a_key(data):
    files.upload(
        upload=SimpleUploadedFile(
            "coupons.csv", b"customer,coupon\nc1,AAA\nc1,BBB\n,ZZZ\nc4,CCC\n"
        ),
        name="coupons.csv",
        user=SYSTEM,
    )
    loaded, _ = step(
        "load_file", {"file": "coupons.csv", "columns": [{"name": "customer"}, {"name": "coupon"}]}
    )
    out = enrich.enrich(
        population=audience("customer"),
        columns=[
            {
                "alias": "code",
                "file_column": "coupon",
                "join": {"column": "customer", "attribute": "customer_id"},
            }
        ],
        file_rows=loaded["out"],
    )
    assert column(out, "code") == {"c1": "AAA", "c2": None, "c3": None, "c4": "CCC", "c5": None}


def test_columns_ride_along_and_empty_input(data):
    nobody = audience("customer", {"field": "country", "op": "eq", "value": "ZZ"})
    out = enriched({"alias": "n", "aggregate": "count", "link": "purchases"}, population=nobody)
    assert out.count == 0 and out.columns[0]["name"] == "n"
    again = enriched(
        {"alias": "m", "aggregate": "count", "link": "purchases"},
        population=enriched({"alias": "n", "aggregate": "count", "link": "purchases"}),
    )
    assert rows(again)["c1"] == {"n": 2, "m": 2}
    kind = registry.get("enrichment")
    spec = {
        "columns": [{"alias": "total", "aggregate": "sum", "link": "purchases", "field": "amount"}]
    }
    assert kind.outputs(spec, {"a": shape("customer")}) == {
        "out": shape("customer", total="decimal")
    }
    later = {
        "subsets": [{"name": "big", "where": {"field": "target.total", "op": "gt", "value": 10}}]
    }
    assert errors("split", later, kind.outputs(spec, {"a": shape("customer")})["out"]) == set()


def test_validation_at_paths(data):
    def check(*cols, shape_=None, **options):
        return errors(
            "enrichment",
            {"columns": list(cols), **options},
            shape_ or shape("customer", n="integer"),
        )

    assert check({"alias": "city", "field": "store.city"}) == set()
    assert check({"alias": "x", "field": "store.nope"}) == {
        ("a[0].columns[0].field", "unknown field 'nope' of schema 'store'")
    }
    assert check({"alias": "x"}) == {
        ("a[0].columns[0]", "give one of field, aggregate, collect or file_column")
    }
    assert check({"alias": "x", "field": "country", "collect": 2}) == {
        ("a[0].columns[0]", "give one of field, aggregate, collect or file_column")
    }
    assert check({"alias": "n", "field": "country"}) == {
        ("a[0].columns[0].alias", "the population already has a column 'n'")
    }
    assert check({"alias": "s", "aggregate": "sum", "link": "purchases", "field": "at"}) == {
        ("a[0].columns[0].field", "sum needs a numeric field, 'at' is datetime")
    }
    assert check({"alias": "s", "aggregate": "count", "link": "store"}) == {
        ("a[0].columns[0].link", "'store' is not a one-to-many link of 'customer'")
    }
    assert check(
        {
            "alias": "s",
            "aggregate": "count",
            "link": "purchases",
            "where": {"field": "nope", "op": "eq", "value": 1},
        }
    ) == {("a[0].columns[0].where.field", "unknown field 'nope' of schema 'purchase'")}
    assert check({"alias": "l", "collect": 2, "link": "purchases", "fields": ["nope"]}) == {
        ("a[0].columns[0].fields[0]", "unknown field 'nope' of schema 'purchase'")
    }
    assert check({"alias": "Bad"}) >= {
        (
            "a[0].columns[0].alias",
            "must be lowercase letters, digits and single underscores, starting with a letter (no double or trailing underscore)",
        )
    }
    file_col = {
        "alias": "code",
        "file_column": "coupon",
        "join": {"column": "customer", "attribute": "customer_id"},
    }
    assert check(file_col) == {
        ("a[0].columns[0].file_column", "name the loaded file in the activity's 'file'")
    }
    assert check(file_col, file="load") == {
        ("a[0].file", "'load' is not a load_file activity upstream of this one")
    }
    upstream = {
        "load": {
            "type": "load_file",
            "ports": {"out": Shape.file({"customer": "string", "coupon": "integer"})},
        }
    }
    found = errors(
        "enrichment", {"columns": [file_col], "file": "load"}, shape("customer"), upstream=upstream
    )
    assert found == {("a[0].columns[0].type", "the file's column 'coupon' is integer, not string")}
    found = errors(
        "enrichment",
        {
            "columns": [
                {
                    **file_col,
                    "type": "integer",
                    "join": {"column": "nope", "attribute": "customer_id"},
                }
            ],
            "file": "load",
        },
        shape("customer"),
        upstream=upstream,
    )
    assert found == {("a[0].columns[0].join.column", "the file has no column 'nope'")}
    found = errors(
        "enrichment",
        {
            "columns": [
                {
                    **file_col,
                    "type": "integer",
                    "join": {"column": "customer", "attribute": "points"},
                }
            ],
            "file": "load",
        },
        shape("customer"),
        upstream=upstream,
    )
    assert found == {
        ("a[0].columns[0].join.column", "a string column cannot match a integer attribute")
    }
