"""Validation of rule documents: every error names its JSON path."""

import pytest
from dateutil.relativedelta import relativedelta

from audiences import durations, rules
from audiences.models import SavedAudience
from tests.audiences import rule_data


def errors(where, **kwargs):
    return rules.check(schema="customer", where=where, **kwargs)


@pytest.mark.parametrize(
    "where,path,fragment",
    [
        ({"field": "nope", "op": "eq", "value": 1}, "where.field", "unknown field"),
        ({"field": "shop.city", "op": "eq", "value": 1}, "where.field", "unknown link"),
        ({"field": "store.nope", "op": "eq", "value": 1}, "where.field", "unknown field"),
        ({"field": "country", "op": "like", "value": "x"}, "where.op", "unknown operator"),
        ({"field": "points", "op": "contains", "value": "x"}, "where.op", "does not apply"),
        ({"field": "vip", "op": "lt", "value": True}, "where.op", "does not apply"),
        (
            {"and": [{"and": []}, {"field": "points", "op": "eq", "value": "ten"}]},
            "where.and[1].value",
            "integer",
        ),
        ({"field": "points", "op": "eq", "value": True}, "where.value", "integer"),
        ({"field": "birth", "op": "eq", "value": "yesterday"}, "where.value", "date"),
        ({"field": "points", "op": "in", "value": [1, "2"]}, "where.value[1]", "integer"),
        ({"field": "points", "op": "between", "value": [1]}, "where.value", "[low, high]"),
        ({"field": "seen", "op": "in_last", "value": "30days"}, "where.value", "duration"),
        ({"field": "seen", "op": "gt", "value": {"now": "18y"}}, "where.value.now", "duration"),
        ({"field": "country", "op": "eq", "var": "land"}, "where.var", "undeclared"),
        ({"field": "country", "op": "eq"}, "where.value", "needs a value"),
        ({"or": [{"exists": "orders"}]}, "where.or[0].exists", "unknown link"),
        (
            {"not": {"exists": "purchases", "where": {"field": "x", "op": "is_null"}}},
            "where.not.where.field",
            "unknown field",
        ),
        (
            {"aggregate": "sum", "link": "purchases", "op": "gt", "value": 1},
            "where.field",
            "needs a field",
        ),
        (
            {"aggregate": "sum", "link": "purchases", "field": "at", "op": "gt", "value": 1},
            "where.field",
            "numeric",
        ),
        (
            {
                "aggregate": "avg",
                "link": "purchases",
                "field": "customer_ref",
                "op": "gt",
                "value": 1,
            },
            "where.field",
            "numeric",
        ),
        (
            {"aggregate": "median", "link": "purchases", "op": "gt", "value": 1},
            "where.aggregate",
            "one of",
        ),
        (
            {"aggregate": "count", "link": "store", "op": "gt", "value": 1},
            "where.link",
            "one-to-many",
        ),
        (
            {"aggregate": "count", "link": "purchases", "op": "contains", "value": 1},
            "where.op",
            "unknown operator",
        ),
        ({"field": "target.total", "op": "gt", "value": 1}, "where.field", "population"),
        ({"in_audience": "ghosts"}, "where.in_audience", "no saved audience"),
        ({"what": 1}, "where", "unknown condition"),
        ([], "where", "an object"),
    ],
)
@pytest.mark.django_db
def test_errors_name_the_path(where, path, fragment):
    rule_data.define()
    found = errors(where)
    assert any(e["path"] == path and fragment in e["message"] for e in found), found


@pytest.mark.django_db
def test_variables_declared_typed_and_valid_rules():
    rule_data.define()
    rule = {"field": "country", "op": "eq", "var": "land"}
    assert errors(rule, var_types={"land": "string"}) == []
    assert errors(rule, variables={"land": "FR"}) == []
    assert errors(rule, variables={"land": 3})[0]["path"] == "where.var"
    target = {"field": "target.total", "op": "gt", "value": 1}
    assert errors(target, targets={"total": "decimal"}) == []
    assert errors(target, targets={"other": "decimal"})[0]["path"] == "where.field"
    assert errors({"field": "store.region.name", "op": "starts_with", "value": "N"}) == []


@pytest.mark.django_db
def test_in_audience_cycle_is_refused():
    schemas = rule_data.define()
    SavedAudience.objects.create(name="a", schema=schemas["customer"], where={"in_audience": "b"})
    SavedAudience.objects.create(name="b", schema=schemas["customer"], where={"and": []})
    assert errors({"in_audience": "a"}) == []
    found = errors({"in_audience": "a"}, audience="b")
    assert found and "cycle" in found[0]["message"], found
    assert "cycle" in errors({"in_audience": "b"}, audience="b")[0]["message"]
    wrong_schema = rules.check(schema="store", where={"in_audience": "b"})
    assert "not 'store'" in wrong_schema[0]["message"]


def test_durations_grammar():
    assert durations.parse("90min") == relativedelta(hours=1, minutes=30)
    assert durations.parse("6mo").months == 6
    assert durations.parse("-18y", signed=True).years == -18
    assert durations.parse("+2d", signed=True).days == 2
    for bad in ["30", "d30", "1.5d", "-3d", "3 d", "3days", 3]:
        with pytest.raises(durations.DurationError) as info:
            durations.parse(bad, path="x.in_last")
        assert info.value.path == "x.in_last"
    with pytest.raises(durations.DurationError):
        durations.parse("3d", signed=True)


def test_operators_live_in_one_table():
    assert set(rules.OPERATORS) == {
        "eq",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "in",
        "not_in",
        "between",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "is_null",
        "is_not_null",
        "in_last",
        "not_in_last",
    }
