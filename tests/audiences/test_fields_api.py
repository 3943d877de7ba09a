"""``GET /api/schemas/{name}/fields/``: the field tree the rule builder reads."""

import pytest

from audiences import rules
from audiences.services import audiences as audience_services
from config.access import SYSTEM
from tests.audiences import rule_data

pytestmark = pytest.mark.django_db


def test_the_field_tree_follows_links_both_ways(api_client):
    schemas = rule_data.load()
    Attribute = schemas["customer"].attributes.model
    Attribute.objects.filter(schema=schemas["customer"], name="country").update(enum=["FR", "DE"])
    audience_services.create_rule_audience(
        name="french", schema=schemas["customer"], where={"field": "country", "op": "eq", "value": "FR"},
        description="", user=SYSTEM,
    )  # fmt: skip
    answer = api_client.get("/api/schemas/customer/fields/").json()
    assert answer["schema"] == "customer"
    customer = answer["schemas"]["customer"]
    by_name = {a["name"]: a for a in customer["attributes"]}
    assert by_name["country"] == {
        "name": "country",
        "type": "string",
        "enum": ["FR", "DE"],
        "required": False,
    }
    assert by_name["points"]["enum"] is None
    assert customer["links"] == [{"name": "store", "to": "store", "via": "shop"}]
    assert customer["reverse"] == [{"name": "purchases", "schema": "purchase", "link": "customer"}]
    # every schema reachable, many-to-one and one-to-many, at any depth
    assert {"store", "region", "purchase", "line", "product"} <= set(answer["schemas"])
    assert answer["schemas"]["store"]["links"][0]["to"] == "region"
    assert answer["operators"]["in_last"] == {"types": ["date", "datetime"], "shape": "duration"}
    assert set(answer["operators"]) == set(rules.OPERATORS)
    assert "contains" not in answer["aggregate_operators"]
    assert answer["audiences"] == ["french"]
    assert "mo" in answer["duration_units"]


def test_an_unknown_schema_is_a_404(api_client):
    assert api_client.get("/api/schemas/nothing/fields/").status_code == 404
