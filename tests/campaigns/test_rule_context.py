"""``GET /api/campaigns/{id}/rule-context/?activity=KEY``: what a rule of an activity is written
against (the population flowing in and the campaign's variables), for the rule builder."""

import pytest

from campaigns import services
from config.access import SYSTEM

pytestmark = pytest.mark.django_db


def campaign_of(schema):
    return services.create_from_definition(
        document={
            "name": "Context",
            "variables": [{"name": "country", "type": "string", "default": "FR"}],
            "activities": [
                {"id": "aud", "type": "build_audience", "schema": schema.name},
                {"id": "enrich", "type": "enrichment", "columns": [{"alias": "pts", "field": "points"}]},
                {"id": "split", "type": "split", "subsets": [{"name": "big", "where": {"field": "target.pts", "op": "gt", "value": 1}}]},
            ],
            "transitions": [{"from": "aud", "to": "enrich"}, {"from": "enrich", "to": "split"}],
        },
        user=SYSTEM,
    )  # fmt: skip


def test_the_population_flowing_in_and_the_variables(api_client, schema):
    campaign = campaign_of(schema)
    url = f"/api/campaigns/{campaign.pk}/rule-context/"
    split = api_client.get(url, {"activity": "split"}).json()
    assert split == {
        "activity": "split",
        "schema": schema.name,
        "targets": {"pts": "integer"},
        "variables": {"country": {"type": "string", "default": "FR"}},
    }
    entry = api_client.get(url, {"activity": "aud"}).json()
    assert entry["schema"] is None and entry["targets"] is None
    assert entry["variables"] == split["variables"]
    assert api_client.get(url, {"activity": "new_one"}).json()["targets"] is None
    assert api_client.get("/api/campaigns/999999/rule-context/").status_code == 404
