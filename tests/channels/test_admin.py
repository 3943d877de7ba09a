"""The channel pages of the admin, through Django's test client with real non-superuser users:
a delivery's counts and samples, the Outbox's sandboxed HTML, an activity's preview and notes,
the send confirmation's task page, a proof from the campaign page."""

import pytest
from django.urls import reverse

from campaigns import services
from channels import services as channels
from channels.models import Delivery, OutboxMessage, Proof
from config.access import SYSTEM
from tests.channels.helpers import document
from tests.conftest import staff_with

pytestmark = pytest.mark.django_db(transaction=True)


def staged(shop, test=True):
    from audiences import populations

    return channels.stage(
        population=populations.from_rule(schema=shop, where={"and": []}),
        channel="email",
        content={
            "subject": "Hi {{ profile.first_name }}",
            "html": "<p>Hi <b>{{ profile.first_name }}</b></p>",
        },
        owner={"campaign_name": "Promo", "activity_key": "mail"},
        test=test,
    )


def test_a_delivery_page_shows_counts_and_samples_only_to_record_viewers(shop, client):
    delivery = staged(shop)
    url = reverse("admin:channels_delivery_change", args=[delivery.pk])
    client.force_login(staff_with("channels.view_delivery", name="viewer"))
    page = client.get(url).content.decode()
    assert 'class="count-targeted">20<' in page and "need audiences.view_records" in page
    client.force_login(
        staff_with("channels.view_delivery", "audiences.view_records", name="reader")
    )
    page = client.get(url).content.decode()
    assert 'sandbox=""' in page and "Hi &amp;lt;b&amp;gt;" not in page
    assert 'srcdoc="&lt;p&gt;Hi &lt;b&gt;Ann1&lt;/b&gt;&lt;/p&gt;"' in page
    listing = client.get(reverse("admin:channels_delivery_changelist")).content.decode()
    assert "Promo" in listing and "delivery-progress" in listing


def test_the_outbox_shows_html_in_a_sandboxed_frame(client):
    message = OutboxMessage.objects.create(
        channel="email", to="a@example.com", subject="S", html="<script>alert(1)</script><p>x</p>"
    )
    client.force_login(staff_with("channels.view_outboxmessage", name="viewer"))
    page = client.get(
        reverse("admin:channels_outboxmessage_change", args=[message.pk])
    ).content.decode()
    assert '<iframe sandbox=""' in page
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )


def test_an_activity_page_previews_a_record_and_notes_sms_segments(shop, client):
    campaign = services.create_from_definition(document=document(shop, channel="sms"), user=SYSTEM)
    activity = campaign.activities.non_polymorphic().get(key="send")
    url = reverse("admin:campaigns_activity_change", args=[activity.pk])
    client.force_login(
        staff_with(
            "campaigns.view_campaign", "campaigns.view_activity", "audiences.view_records", name="r"
        )
    )
    page = client.get(url, {"preview": "c005"}).content.decode()
    assert "Hi Ann5" in page and "7 characters, GSM-7, 1 segment(s)" in page
    assert "2 characters" not in page
    assert "GSM-7, 1 segment (before personalization)" in page


def test_a_proof_from_the_campaign_page(shop, client):
    campaign = services.create_from_definition(document=document(shop), user=SYSTEM)
    user = staff_with("campaigns.view_campaign", "campaigns.send_proof", name="proofer")
    user.email = "proofer@example.com"
    user.save()
    client.force_login(user)
    page = client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert 'data-action="send_proof"' in page and 'value="proofer@example.com"' in page
    url = reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "send_proof"])
    answer = client.post(
        url, {"activity": "send", "record": "c003", "to": "proofer@example.com"}, follow=True
    )
    texts = [str(m) for m in answer.context["messages"]]
    assert any("proof of send for c003 sent to proofer@example.com (sent)" in t for t in texts), (
        texts
    )
    assert OutboxMessage.objects.get().subject == "[Proof] Hello Ann3"
    assert Proof.objects.count() == 1 and not Delivery.objects.exists()
