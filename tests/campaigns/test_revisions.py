"""Revisions (design 9): a published campaign changes through a revision; launches keep using the
last published version until the revision is published as version n+1; runs in flight keep their
version; discarding a revision restores the published definition."""

import pytest
from rest_framework.test import APIClient

from campaigns import definitions, services
from campaigns.models import Campaign, CampaignStatus
from config.access import SYSTEM
from tests.campaigns.test_admin import document

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signal_campaign(schema, engine, settings):
    settings.TRIGGER_MIN_INTERVAL_SECONDS = 0
    doc = {**document(schema, "Signal"), "schedule": {"frequency": "signal"}}
    campaign = services.create_from_definition(document=doc, user=SYSTEM)
    return services.publish(campaign=campaign, user=SYSTEM)


def where_of(run):
    return run.version.definition["activities"][0]["where"]


def test_a_revision_is_used_only_once_published(signal_campaign, staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    url = f"/api/campaigns/{signal_campaign.pk}/"
    first = services.trigger(campaign=signal_campaign, user=SYSTEM)
    assert first.version.number == 1
    refused = client.put(url, definitions.export(signal_campaign), format="json")
    assert refused.status_code == 409  # published: revise first
    assert "revise it first" in refused.json()["detail"]
    assert client.post(f"{url}revise/").json()["revision_open"] is True
    changed = definitions.export(Campaign.objects.get(pk=signal_campaign.pk))
    changed["activities"][0]["where"] = {"field": "country", "op": "eq", "value": "DE"}
    assert client.put(url, changed, format="json").status_code == 200
    during = services.trigger(campaign=signal_campaign, user=SYSTEM)
    assert (during.version.number, where_of(during)["value"]) == (1, "FR")  # still version 1
    published = client.post(f"{url}publish/").json()
    assert (published["version"], published["revision_open"]) == (2, False)
    assert published["status"] == CampaignStatus.LIVE
    after = services.trigger(campaign=signal_campaign, user=SYSTEM)
    assert (after.version.number, where_of(after)["value"]) == (2, "DE")
    during.refresh_from_db()
    assert during.version.number == 1  # a run keeps the version it started with
    versions = client.get(f"{url}versions/").json()
    assert [v["number"] for v in versions["results"]] == [1, 2]
    diff = client.get(f"{url}versions/2/").json()["diff"]
    assert {"op": "replace", "path": "/activities/0/where/value", "value": "DE"} in diff


def test_discarding_a_revision_restores_the_published_definition(signal_campaign):
    services.revise(campaign=signal_campaign, user=SYSTEM)
    changed = definitions.export(signal_campaign)
    changed["activities"] = changed["activities"][:1]
    changed["transitions"] = []
    services.replace_definition(campaign=signal_campaign, document=changed, user=SYSTEM)
    assert signal_campaign.activities.count() == 1
    services.discard_revision(campaign=signal_campaign, user=SYSTEM)
    campaign = Campaign.objects.get(pk=signal_campaign.pk)
    assert campaign.revision_opened_at is None
    assert definitions.export(campaign) == campaign.versions.get(number=1).definition


def test_the_admin_offers_revise_then_publish(signal_campaign, client, staff_user):
    from django.urls import reverse

    client.force_login(staff_user)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[signal_campaign.pk]))
    assert 'data-action="revise"' in page.text and 'data-action="publish"' not in page.text
    assert "version 1 is live" in page.text
    url = reverse("admin:campaigns_campaign_lifecycle", args=[signal_campaign.pk, "revise"])
    page = client.post(url, follow=True)
    assert 'data-action="publish"' in page.text and 'data-action="discard_revision"' in page.text
    assert 'name="transitions-0-port"' in page.text  # editable again
    assert "launches still use version 1" in page.text
