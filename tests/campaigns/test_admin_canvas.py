"""The canvas's admin endpoints (``campaigns.admin_canvas``) through Django's test client, as real
users: saving goes through ``replace_definition`` (a draft saves incomplete, a malformed document
is a 400 with its errors in words, nothing half-written), test runs through ``test_run``, and the
lifecycle and permissions refuse what they refuse, never with a 500."""

import json

import pytest
from django.urls import reverse

from campaigns import definitions, services
from campaigns.models import Campaign
from config.access import SYSTEM
from tests.campaigns.test_admin import document
from tests.conftest import member_of


@pytest.fixture
def campaign(schema):
    return services.create_from_definition(document=document(schema), user=SYSTEM)


def post(client, url, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def save_url(campaign):
    return reverse("admin:campaigns_canvas_save", args=[campaign.pk])


def test_a_draft_saves_incomplete_with_its_errors_by_activity(client, staff_user, campaign):
    client.force_login(staff_user)
    drawn = definitions.export(campaign)
    drawn["activities"].append({"id": "orphan", "type": "wait", "position": [40, 300]})
    drawn["activities"][0]["position"] = [10, 20]
    response = post(client, save_url(campaign), {"definition": drawn})
    assert response.status_code == 200
    body = response.json()
    assert body["saved"] and "orphan" in body["errors"]  # in words, by activity
    assert any("input" in m for m in body["errors"]["orphan"])
    saved = definitions.export(Campaign.objects.get(pk=campaign.pk))
    assert [a["id"] for a in saved["activities"]][-1] == "orphan"
    assert saved["activities"][0]["position"] == [10, 20]
    assert body["definition"] == saved


@pytest.mark.parametrize(
    "body, path",
    [
        ("{not json", ""),
        ("[1, 2]", ""),
        ({"definition": None}, ""),
        (
            {"definition": {"name": "x", "activities": [{"id": "a", "type": "nope"}]}},
            "activities[0].type",
        ),
    ],
)
def test_a_malformed_document_is_refused_with_its_path_and_nothing_saved(
    client, staff_user, campaign, body, path
):
    client.force_login(staff_user)
    before = definitions.export(campaign)
    response = post(client, save_url(campaign), body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and errors[0]["path"] == path and errors[0]["words"]
    assert definitions.export(Campaign.objects.get(pk=campaign.pk)) == before


def test_a_viewer_may_not_save_or_test_run(client, roles, campaign):
    client.force_login(member_of(roles["Viewer"], "vera"))
    before = definitions.export(campaign)
    response = post(client, save_url(campaign), {"definition": before})
    assert response.status_code == 403
    assert "campaigns.change_campaign" in response.json()["errors"][0]["message"]
    run = post(client, reverse("admin:campaigns_canvas_test_run", args=[campaign.pk]), {})
    assert run.status_code == 403
    assert not campaign.runs.exists()


def test_a_test_run_takes_typed_variables_and_refuses_an_invalid_campaign(
    client, staff_user, campaign, engine
):
    client.force_login(staff_user)
    url = reverse("admin:campaigns_canvas_test_run", args=[campaign.pk])
    started = post(client, url, {"variables": {}})
    assert started.status_code == 200
    run = campaign.runs.get(pk=started.json()["run"])
    assert run.test
    details = client.get(reverse("admin:campaigns_canvas_run", args=[run.pk]))
    assert details.status_code == 200 and details.json()["id"] == run.pk
    assert set(details.json()["activities"]) == {"aud", "check", "done", "small"}

    broken = definitions.export(campaign)
    broken["transitions"] = []
    post(client, save_url(campaign), {"definition": broken})
    refused = post(client, url, {})
    assert refused.status_code == 400
    assert any("input" in e["words"] for e in refused.json()["errors"])
    assert campaign.runs.count() == 1
    assert client.get(save_url(campaign)).status_code == 405
