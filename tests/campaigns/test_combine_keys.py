"""``combine`` on chosen keys against hand-written SQL: records with equal keys count as one, a
null or empty key matches nothing, columns as keys, validation of keys on every input."""

import pytest
from django.db.models import F

from audiences import populations
from audiences.models import Schema
from tests.campaigns.contacts import contacts  # noqa: F401 - fixture
from tests.campaigns.targeting import audience, errors, keys, shape, sql_keys, step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("contacts")]


def pops():
    first = audience(
        "contacts", {"field": "contact_id", "op": "in", "value": ["k1", "k3", "k4", "k6", "k7"]}
    )
    second = audience(
        "contacts", {"field": "contact_id", "op": "in", "value": ["k2", "k5", "k6", "k8"]}
    )
    return first, second


def combine(operation, keys_, *inputs, complement=False):
    out, _ = step(
        "combine",
        {"operation": operation, "keys": keys_, "complement": complement, "primary": "in0"},
        *inputs,
    )
    return keys(out["out"]), keys(out["complement"])


def test_intersection_and_exclusion_on_email():
    first, second = pops()
    kept, rest = combine("intersection", ["email"], first, second, complement=True)
    assert (
        kept
        == sql_keys(
            "SELECT a.contact_id FROM data_contacts a WHERE a.contact_id IN ('k1','k3','k4','k6','k7') "
            "AND EXISTS (SELECT 1 FROM data_contacts b WHERE b.contact_id IN ('k2','k5','k6','k8') "
            "AND b.email = a.email AND b.email <> '')"
        )
        == ["k7"]
    ), "k6 has an empty email, k4 a null one: they match nothing"
    assert rest == ["k1", "k2", "k3", "k4", "k5", "k6", "k8"]
    excluded, _ = combine("exclusion", ["email"], first, second)
    assert excluded == ["k1", "k3", "k4", "k6"]


def test_union_keeps_one_record_per_key_first_input_first():
    first, second = pops()
    kept, _ = combine("union", [{"field": "email", "transform": "lower"}], first, second)
    # k1 and k3 share ann@example.com in lower case (k2 has spaces); k7/k8 share bob: k7 (first)
    assert kept == ["k1", "k2", "k4", "k5", "k6", "k7"]
    two_keys, _ = combine("union", ["email", "plan"], first, second)
    assert two_keys == ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"]


def test_a_column_as_key():
    first, second = pops()
    schema = Schema.objects.get(name="contacts")
    tiered = [
        populations.materialize(
            queryset=populations.members(p), schema=schema, columns={"tier": (F("plan"), "string")}
        )
        for p in (first, second)
    ]
    kept, _ = combine("intersection", ["target.tier"], *tiered)
    assert kept == ["k1", "k4", "k6", "k7"]


def test_empty_inputs():
    first, _second = pops()
    nobody = audience("contacts", {"field": "score", "op": "gt", "value": 99})
    assert combine("intersection", ["email"], first, nobody)[0] == []
    assert combine("exclusion", ["email"], first, nobody)[0] == keys(first)
    assert combine("union", ["email"], nobody, nobody)[0] == []


def test_keys_are_checked_on_every_input():
    options = {"operation": "union", "keys": ["target.tier"]}
    found = errors("combine", options, shape("contacts", tier="string"), shape("contacts"))
    assert found == {("a[0].keys[0]", "input 'in1': the population has no column 'tier'")}
    assert (
        errors(
            "combine",
            {"operation": "union", "keys": ["email"]},
            shape("contacts"),
            shape("contacts"),
        )
        == set()
    )


def test_a_key_with_a_transform_is_a_valid_option_and_checked_at_its_field():
    def check(key):
        found = errors("combine", {"operation": "union", "keys": [key]}, shape("contacts"))
        return {path for path, _message in found}

    assert check({"field": "email", "transform": "lower"}) == set()
    assert check({"field": "nope", "transform": "lower"}) == {"a[0].keys[0].field"}
    assert check({"field": "email", "transform": "upcase"}) == {"a[0].keys[0].transform"}
