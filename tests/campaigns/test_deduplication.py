"""``deduplication`` against hand-written SQL: transforms, nulls and empty texts that match
nothing, every ``choose``, ``keep``, the seeded random order, empty inputs, validation."""

import pytest
from django.db.models import F

from audiences import populations
from campaigns.activities import registry
from tests.campaigns.contacts import contacts  # noqa: F401 - fixture
from tests.campaigns.targeting import audience, errors, keys, rows, shape, sql_keys, step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("contacts")]


def dedup(fields, choose=None, keep=1, population=None):
    options = {"fields": fields, "keep": keep, **({"choose": choose} if choose else {})}
    out, _ = step("deduplication", options, population or audience("contacts"))
    return keys(out["out"]), keys(out["duplicates"])


def test_transforms_and_nulls_never_match():
    lowered = {"field": "email", "transform": "lower"}
    kept, dups = dedup([lowered], {"by": "lowest", "field": "score"})
    assert kept == ["k1", "k2", "k4", "k5", "k6", "k7"] and dups == ["k3", "k8"]
    hand = sql_keys(
        "SELECT contact_id FROM (SELECT contact_id, NULLIF(lower(email), '') AS e, row_number() "
        "OVER (PARTITION BY NULLIF(lower(email), '') ORDER BY score ASC NULLS LAST, contact_id) "
        "AS n FROM data_contacts) t WHERE e IS NULL OR n = 1"
    )
    assert kept == hand
    kept, dups = dedup(
        [{"field": "email", "transform": "trim"}], {"by": "lowest", "field": "score"}
    )
    assert dups == ["k3", "k8"], "k2 (9) beats k3 (null): nulls last"
    kept, dups = dedup(
        [{"field": "phone", "transform": "digits"}], {"by": "highest", "field": "score"}
    )
    assert dups == ["k1", "k6"], "+33 6 12, 33612 and +33-612 are one; 'x' and '' are no key"
    kept, dups = dedup(["email"], {"by": "highest", "field": "score"})
    assert dups == ["k8"], "plain: only bob@example.com twice; the empty text k6 matches nothing"


def test_keep_and_every_choice():
    digits = [{"field": "phone", "transform": "digits"}]
    assert dedup(digits, {"by": "highest", "field": "score"}, keep=2)[1] == ["k6"]
    assert dedup(digits, {"by": "lowest", "field": "score"})[0] == [
        "k3",
        "k4",
        "k5",
        "k6",
        "k7",
        "k8",
    ]
    lowered = [{"field": "email", "transform": "lower"}]
    assert dedup(lowered, {"by": "non_empty", "fields": ["phone", "plan"]})[1] == ["k3", "k8"]
    assert dedup(lowered, {"by": "non_empty", "fields": ["score", "joined"]})[1] == ["k3", "k8"]
    bob = ["email"]
    assert dedup(bob, {"by": "priority", "field": "plan", "values": ["silver", "gold"]})[1] == [
        "k8"
    ]
    assert dedup(bob, {"by": "priority", "field": "plan", "values": ["gold"]})[1] == ["k7"]
    assert dedup(bob, {"by": "priority", "field": "score", "values": [7]})[1] == ["k8"], "tie: key"
    # several fields: same email and same plan
    assert dedup(["email", "plan"])[1] == []


def test_random_is_seeded_by_the_run_and_replays():
    lowered = [{"field": "email", "transform": "lower"}]
    first = dedup(lowered)
    assert dedup(lowered) == first, "the same run and activity choose the same records"
    hand = sql_keys(
        "SELECT contact_id FROM (SELECT contact_id, NULLIF(lower(email), '') AS e, row_number() "
        "OVER (PARTITION BY NULLIF(lower(email), '') ORDER BY md5(%s || contact_id), contact_id) "
        "AS n FROM data_contacts) t WHERE e IS NOT NULL AND n > 1",
        ["1:step"],
    )
    assert first[1] == hand and len(hand) == 2


def test_columns_ride_along_and_can_be_keys():
    from audiences.models import Schema

    pop = populations.materialize(
        queryset=populations.members(audience("contacts")),
        schema=Schema.objects.get(name="contacts"),
        columns={"tier": (F("plan"), "string")},
    )
    out, _ = step(
        "deduplication",
        {"fields": ["target.tier"], "choose": {"by": "lowest", "field": "target.tier"}},
        pop,
    )
    assert keys(out["out"]) == ["k1", "k2", "k3", "k5"]
    assert rows(out["duplicates"])["k8"] == {"tier": "gold"}


def test_empty_input():
    nobody = audience("contacts", {"field": "score", "op": "gt", "value": 100})
    out, _ = step("deduplication", {"fields": ["email"]}, nobody)
    assert out["out"].count == 0 and out["duplicates"].count == 0


def test_validation_at_paths():
    good = {"fields": ["email"]}
    assert errors("deduplication", good, shape("contacts")) == set()
    assert errors("deduplication", {"fields": []}, shape("contacts")) == {
        ("a[0].fields", "must not be empty")
    }
    assert errors("deduplication", {"fields": ["nope"]}, shape("contacts")) == {
        ("a[0].fields[0]", "unknown field 'nope' of schema 'contacts'")
    }
    assert errors("deduplication", {"fields": [{"field": "target.x"}]}, shape("contacts")) == {
        ("a[0].fields[0].field", "the population has no column 'x'")
    }
    upper = {"fields": [{"field": "email", "transform": "upper"}]}
    assert errors("deduplication", upper, shape("contacts")) == {
        ("a[0].fields[0].transform", "must be one of lower, trim, digits")
    }
    assert errors("deduplication", {"fields": [3]}, shape("contacts")) == {
        ("a[0].fields[0]", "does not match any of the accepted shapes")
    }
    assert errors("deduplication", {**good, "choose": {"by": "highest"}}, shape("contacts")) == {
        ("a[0].choose.field", "highest needs a field")
    }
    assert errors(
        "deduplication",
        {**good, "choose": {"by": "priority", "field": "score", "values": ["high"]}},
        shape("contacts"),
    ) == {("a[0].choose.values[0]", "expected a integer value, got 'high'")}
    assert errors("deduplication", {**good, "choose": {"by": "non_empty"}}, shape("contacts")) == {
        ("a[0].choose.fields", "non_empty needs fields")
    }
    assert errors("deduplication", {**good, "keep": 0}, shape("contacts")) == {
        ("a[0].keep", "must be at least 1")
    }
    assert registry.get("deduplication").outputs(good, {"a": shape("contacts", t="integer")}) == {
        "out": shape("contacts", t="integer"),
        "duplicates": shape("contacts", t="integer"),
    }
