"""Proofs (``campaigns/{id}/proof/``), previews and ``deliveries/``, through the API with real
non-superuser users; proofs go to a real SMTP server and are never in the ledger."""

import pytest
from django.test import override_settings

from campaigns import services
from channels.models import Delivery, Message, Proof
from config.access import SYSTEM
from tests.channels.conftest import final_run
from tests.channels.helpers import document, publish
from tests.conftest import staff_with, token_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def smtp_settings(smtp):
    from django.conf import settings

    providers = {
        **settings.CHANNEL_PROVIDERS,
        "email": {"BACKEND": "channels.providers.smtp.SMTPProvider"},
    }
    return override_settings(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp.port,
        CHANNEL_PROVIDERS=providers,
        PROOF_ALLOWED_DOMAINS=["agency.example"],
    )


def test_a_proof_goes_to_allowed_addresses_only_and_is_never_counted(shop, smtp):
    html = '<p>Hi {{ profile.first_name }}</p><a href="{{ message.unsubscribe_url }}">stop</a>'
    campaign = services.create_from_definition(document=document(shop, html=html), user=SYSTEM)
    sender = staff_with("campaigns.view_campaign", "campaigns.send_proof", name="proofer")
    sender.email = "proofer@corp.example"
    sender.save()
    client = token_client(sender)
    url = f"/api/campaigns/{campaign.pk}/proof/"
    with smtp_settings(smtp):
        refused = client.post(
            url,
            {"activity": "send", "record": "c002", "to": ["someone@else.example"]},
            format="json",
        )
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["path"] == "to[0]"
        done = client.post(
            url,
            {
                "activity": "send",
                "record": "c002",
                "to": ["proofer@corp.example", "ann@agency.example"],
            },
            format="json",
        )
    assert done.status_code == 201, done.content
    assert [r["status"] for r in done.json()["results"]] == ["sent", "sent"]
    assert sorted(m["to"] for m in smtp.messages) == ["ann@agency.example", "proofer@corp.example"]
    mail = smtp.messages[0]
    assert mail["subject"] == "[Proof] Hello Ann2" and mail["proof"] == "1"
    assert b"/u/proof" in mail["raw"]  # its unsubscribe link names no message
    assert not Message.objects.exists() and not Delivery.objects.exists()
    assert Proof.objects.get().record_key == "c002"


def test_sending_a_proof_needs_send_proof(shop):
    campaign = services.create_from_definition(document=document(shop), user=SYSTEM)
    client = token_client(staff_with("campaigns.view_campaign", name="viewer"))
    answer = client.post(
        f"/api/campaigns/{campaign.pk}/proof/",
        {"activity": "send", "record": "c1", "to": ["x@y.z"]},
        format="json",
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Sending a proof needs campaigns.send_proof"


def test_a_preview_renders_one_record_and_counts_sms_segments(shop):
    campaign = services.create_from_definition(document=document(shop, channel="sms"), user=SYSTEM)
    url = f"/api/campaigns/{campaign.pk}/preview/"
    viewer = token_client(staff_with("campaigns.view_campaign", name="viewer"))
    assert (
        viewer.post(url, {"activity": "send", "record": "c003"}, format="json").status_code == 403
    )
    reader = token_client(
        staff_with("campaigns.view_campaign", "audiences.view_records", name="reader")
    )
    shown = reader.post(url, {"activity": "send", "record": "c003"}, format="json").json()
    assert shown["text"] == "Hi Ann3"
    assert shown["segments"] == {"characters": 7, "encoding": "GSM-7", "segments": 1}
    missing = reader.post(url, {"activity": "send", "record": "nobody"}, format="json")
    assert missing.status_code == 404


@pytest.mark.workers
def test_deliveries_show_counts_by_reason_and_progress(shop, smtp, senders):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE data_{shop.name} SET email = NULL WHERE customer_id IN ('c001', 'c002')"
        )
    engine = senders(smtp=smtp)
    engine.worker()
    _campaign, run = publish(document(shop))
    final_run(run, 60)
    client = token_client(staff_with("channels.view_delivery", name="reporter"))
    listed = client.get(f"/api/deliveries/?run={run.pk}").json()
    (item,) = listed["results"]
    assert item["targeted"] == 20 and item["excluded"] == {"no_address": 2}
    assert (item["staged"], item["sent"], item["failed"], item["unknown"], item["expired"]) == (
        18,
        18,
        0,
        0,
        0,
    )
    assert item["percent"] == 100.0 and item["status"] == "finished" and item["activity"] == "send"
    detail = client.get(f"/api/deliveries/{item['id']}/").json()
    assert "samples" not in detail  # personal data needs audiences.view_records
    assert client.get("/api/deliveries/?status=bogus").status_code == 400
    assert token_client(staff_with(name="nobody")).get("/api/deliveries/").status_code == 403
