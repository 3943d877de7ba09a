"""``split`` against hand-written SQL: exclusive and overlapping subsets, limits by count and
percent in every order (nulls last, seeded random), the complement, ``skip_empty``, columns in
rules, empty inputs, validation at paths."""

import pytest
from django.db.models import F

from audiences import populations
from audiences.models import Schema
from campaigns.activities import registry
from tests.campaigns.contacts import contacts  # noqa: F401 - fixture
from tests.campaigns.targeting import audience, errors, keys, shape, sql_keys, step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("contacts")]

GOLD = {"field": "plan", "op": "eq", "value": "gold"}
HIGH = {"field": "score", "op": "gte", "value": 5}


def split(subsets, population=None, **options):
    out, _ = step("split", {"subsets": subsets, **options}, population or audience("contacts"))
    return {port: keys(p) for port, p in out.items()}


def test_exclusive_by_default_overlap_on_request():
    subsets = [{"name": "gold", "where": GOLD}, {"name": "high", "where": HIGH}]
    assert split(subsets, complement=True) == {
        "gold": sql_keys("SELECT contact_id FROM data_contacts WHERE plan = 'gold'"),
        "high": sql_keys(
            "SELECT contact_id FROM data_contacts WHERE score >= 5 AND plan IS DISTINCT FROM 'gold'"
        ),
        "complement": ["k3", "k5"],
    }
    assert split(subsets, complement=True, overlap=True)["high"] == ["k1", "k2", "k7", "k8"]
    assert "complement" not in split(subsets)


def test_limits_by_count_in_order_nulls_last():
    top = split([{"name": "top", "limit": {"count": 3, "order_by": "-score"}}])["top"]
    assert (
        top
        == sql_keys(
            "SELECT contact_id FROM data_contacts ORDER BY score DESC NULLS LAST, contact_id LIMIT 3"
        )
        == ["k2", "k7", "k8"]
    )
    low = split([{"name": "low", "limit": {"count": 2, "order_by": "score"}}])["low"]
    assert low == ["k5", "k6"]
    last = split([{"name": "all", "limit": {"count": 8, "order_by": "-score"}}])
    assert len(last["all"]) == 8, "a null score is still taken, last"
    both = split(
        [
            {"name": "a", "limit": {"count": 2, "order_by": "score"}},
            {"name": "b", "limit": {"count": 2, "order_by": "score"}},
        ]
    )
    assert both == {"a": ["k5", "k6"], "b": ["k1", "k4"]}, "b takes what a did not"


def test_limits_by_percent_rounded_down_and_seeded_random():
    gold = split([{"name": "half", "where": GOLD, "limit": {"percent": 50}}])["half"]
    hand = sql_keys(
        "SELECT contact_id FROM data_contacts WHERE plan = 'gold' "
        "ORDER BY md5(%s || contact_id), contact_id LIMIT 2",
        ["1:step"],
    )
    assert gold == hand and len(gold) == 2
    assert split([{"name": "s", "limit": {"percent": 30, "order_by": "random"}}])["s"] == sql_keys(
        "SELECT contact_id FROM data_contacts ORDER BY md5(%s || contact_id), contact_id LIMIT 2",
        ["1:step"],
    )
    assert split([{"name": "none", "limit": {"percent": 0}}])["none"] == []


def test_skip_empty_carries_nothing():
    subsets = [{"name": "nobody", "where": {"field": "score", "op": "gt", "value": 99}}]
    assert split(subsets, complement=True) == {
        "nobody": [],
        "complement": keys(audience("contacts")),
    }
    skipped = split(subsets, complement=True, skip_empty=True)
    assert skipped["nobody"] is None and len(skipped["complement"]) == 8
    everyone = [{"name": "all"}]
    assert split(everyone, complement=True, skip_empty=True)["complement"] is None


def test_rules_read_population_columns():
    pop = populations.materialize(
        queryset=populations.members(audience("contacts")),
        schema=Schema.objects.get(name="contacts"),
        columns={"double": (F("score") * 2, "integer")},
    )
    found = split(
        [{"name": "big", "where": {"field": "target.double", "op": "gte", "value": 14}}], pop
    )
    assert found == {"big": ["k2", "k7", "k8"]}


def test_empty_input():
    nobody = audience("contacts", {"field": "score", "op": "gt", "value": 99})
    found = split(
        [{"name": "a", "limit": {"count": 1}}, {"name": "b", "where": GOLD}],
        nobody,
        complement=True,
    )
    assert found == {"a": [], "b": [], "complement": []}


def test_ports_and_validation():
    kind = registry.get("split")
    assert kind.ports_for({"subsets": [{"name": "a"}, {"name": "b"}], "complement": True}) == (
        "a",
        "b",
        "complement",
    )
    assert errors("split", {"subsets": [{"name": "a", "where": GOLD}]}, shape("contacts")) == set()
    assert errors("split", {"subsets": [{"name": "a"}, {"name": "a"}]}, shape("contacts")) == {
        ("a[0].subsets[1].name", "'a' is already a port of this split")
    }
    assert errors("split", {"subsets": [{"name": "complement"}]}, shape("contacts")) == {
        ("a[0].subsets[0].name", "'complement' is already a port of this split")
    }
    bad = errors("split", {"subsets": [{"name": "Bad Name"}]}, shape("contacts"))
    assert {path for path, _m in bad} == {"a[0].subsets[0].name"}
    assert "lowercase letters" in bad.pop()[1]
    both = {"subsets": [{"name": "a", "limit": {"count": 1, "percent": 5}}]}
    assert errors("split", both, shape("contacts")) == {
        ("a[0].subsets[0].limit", "give either count or percent")
    }
    order = {"subsets": [{"name": "a", "limit": {"count": 1, "order_by": "-nope"}}]}
    assert errors("split", order, shape("contacts")) == {
        ("a[0].subsets[0].limit.order_by", "unknown field 'nope' of schema 'contacts'")
    }
    column = {"subsets": [{"name": "a", "where": {"field": "target.x", "op": "eq", "value": 1}}]}
    assert errors("split", column, shape("contacts")) == {
        ("a[0].subsets[0].where.field", "the population has no column 'x'")
    }
    assert errors("split", column, shape("contacts", x="integer")) == set()
    over = {"subsets": [{"name": "a", "limit": {"percent": 101}}]}
    assert errors("split", over, shape("contacts")) == {
        ("a[0].subsets[0].limit.percent", "must be at most 100")
    }
