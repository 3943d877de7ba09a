"""Consent and pressure rules beyond the issue's headline tests: the opt-in model, consents and
suppressions through the API (CSV import with numbered rejects), SMS STOP, soft bounces, quiet
hours in the profile's time zone, and opt-outs re-checked while a delivery is sent."""

import datetime
import io
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from audiences import populations
from audiences.services.schemas import create_schemas
from channels import consents, jobs, reports
from channels import services as channels
from channels.models import Consent, Delivery, Suppression
from config.access import SYSTEM
from tests.channels.engagement import send, smtp_settings, stage
from tests.channels.helpers import fates
from tests.conftest import staff_with, token_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]
THREE = ["c001", "c002", "c003"]


@pytest.fixture(autouse=True)
def system_user(transactional_db):
    User.objects.create_superuser("owner", "owner@example.com", None)  # audit entries' system user


def _hook(body, secret="s"):
    with override_settings(WEBHOOK_SECRET="s"):
        return Client().post(
            "/hooks/sms-gateway/", body, content_type="application/json",
            HTTP_X_WEBHOOK_SECRET=secret,
        )  # fmt: skip


def test_the_opt_in_model_needs_an_opt_in_recorded_through_the_api(shop):
    client = token_client(staff_with("channels.add_consent", "channels.view_consent", name="dpo"))
    answer = client.post(
        "/api/consents/",
        {"schema": shop.name, "key": "c002", "channel": "email", "status": "opt_in"},
        format="json",
    )
    assert answer.status_code == 200 and answer.json()["source"] == "API"
    bad = client.post("/api/consents/", {"schema": shop.name, "channel": "fax"}, format="json")
    assert bad.status_code == 400
    assert {e["path"] for e in bad.json()["errors"]} == {"key", "channel", "status"}
    with override_settings(CONSENT_MODEL={"email": "opt_in", "sms": "opt_out", "push": "opt_out"}):
        marketing = stage(shop, keys=THREE, test=True)
        receipts = stage(shop, keys=THREE, category="transactional", test=True)
    assert marketing.excluded == {"opted_out": 2} and marketing.staged == 1
    assert receipts.excluded == {}  # transactional messages skip consent
    listed = client.get(f"/api/consents/?schema={shop.name}&status=opt_in").json()
    assert [c["key"] for c in listed["results"]] == ["c002"]


def test_a_consent_csv_import_writes_good_rows_and_numbers_the_rejects_from_one(shop):
    client = token_client(staff_with("channels.add_consent", name="importer"))
    data = (
        "key,channel,status,source\n"
        "c001,email,opt_out,shop form\n"
        "c002,carrier-pigeon,opt_out,\n"
        "c003,sms,opt_out,paper\n"
        ",email,opt_in,\n"
    )
    upload = io.BytesIO(data.encode())
    upload.name = "consents.csv"
    answer = client.post("/api/consents/imports/", {"schema": shop.name, "file": upload})
    assert answer.status_code == 200, answer.content
    result = answer.json()
    assert result["written"] == 2
    assert [r["index"] for r in result["rejected"]] == [2, 4]
    assert "channel" in result["rejected"][0]["message"]
    assert set(Consent.objects.values_list("key", "channel")) == {
        ("c001", "email"),
        ("c003", "sms"),
    }
    refused = token_client(staff_with(name="intern")).post(
        "/api/consents/imports/", {"schema": shop.name}
    )
    assert refused.status_code == 403


def test_suppressions_through_the_api_apply_to_transactional_messages_too(shop):
    client = token_client(
        staff_with("channels.add_suppression", "channels.view_suppression", name="ops")
    )
    body = {"channel": "email", "address": " C3@Example.com", "reason": "blocklist"}
    created = client.post("/api/suppressions/", body, format="json")
    assert created.status_code == 201 and created.json()["address"] == "c3@example.com"
    assert client.post("/api/suppressions/", body, format="json").status_code == 200
    assert client.post("/api/suppressions/", {"channel": "email"}, format="json").status_code == 400
    assert stage(shop, keys=THREE, category="transactional", test=True).excluded == {
        "suppressed": 1
    }
    found = created.json()["id"]
    assert client.delete(f"/api/suppressions/{found}/").status_code == 403  # needs delete
    remover = token_client(staff_with("channels.delete_suppression", name="remover"))
    assert remover.delete(f"/api/suppressions/{found}/").status_code == 204
    assert not Suppression.objects.exists()


def test_an_sms_stop_reply_opts_the_number_out_of_marketing_sms(shop):
    assert (
        _hook({"event": "inbound", "from": "+33 6 12 34 00 02", "text": "stop"}, "x").status_code
        == 403
    )
    answer = _hook({"events": [
        {"event": "inbound", "from": "+33612340002", "text": "Stop!"},
        {"event": "inbound", "from": "+33612340003", "text": "Stopped by the shop?"},
        {"event": "inbound", "from": "+33612340004", "text": "ARRET"},
    ]})  # fmt: skip
    assert answer.json()["outcomes"] == ["opted_out", "ignored", "opted_out"]
    population = populations.from_rule(
        schema=shop, where={"field": "customer_id", "op": "in", "value": ["c002", "c003", "c004"]}
    )
    sms = channels.stage(
        population=population, channel="sms", content={"text": "Hi"}, owner={}, test=True
    )
    assert sms.excluded == {"opted_out": 2}
    email = stage(shop, keys=["c002"], test=True)
    assert email.excluded == {}  # the STOP is for SMS only


def test_soft_bounces_suppress_an_address_after_the_limit(shop, smtp):
    with smtp_settings(smtp):
        delivery = send(stage(shop, keys=["c005"]))
    message_id = delivery.messages.get().provider_id
    soft = {"event": "bounce", "bounce_type": "soft", "message_id": message_id}
    with override_settings(SOFT_BOUNCE_LIMIT=2):
        assert _hook(soft).json()["outcomes"] == ["recorded"]
        assert not Suppression.objects.exists()
        assert _hook(soft).json()["outcomes"] == ["suppressed"]
    assert Suppression.objects.get().reason == "soft_bounces"
    assert reports.report([delivery])[delivery.pk]["bounced"] == 1  # one message, counted once


def test_an_opt_out_during_the_send_takes_effect_before_the_chunk_goes(shop, smtp):
    with smtp_settings(smtp):
        delivery = stage(shop, keys=THREE)
        assert delivery.staged == 3
        consents.set_consent(
            user=SYSTEM, schema=shop, key="c002", channel="email", status="opt_out",
            source="call centre",
        )  # fmt: skip
        consents.suppress(
            user=SYSTEM, channel="email", address="c3@example.com", reason="complaint"
        )
        send(delivery)
    assert smtp.count_by_address() == {"c1@example.com": 1}
    figures = reports.report([delivery])[delivery.pk]
    assert figures["excluded"] == {"opted_out": 1, "suppressed": 1}
    assert (figures["sent"], figures["percent"]) == (1, 100.0)


def _zoned_schema():
    name = f"zoned_{uuid.uuid4().hex[:6]}"
    (schema,) = create_schemas(
        document={
            "name": name, "primary_key": "person_id", "targeting": {"sms": "phone"},
            "attributes": [{"name": "person_id", "type": "string"},
                           {"name": "phone", "type": "string"},
                           {"name": "timezone", "type": "string"}],
        }
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO data_{name} VALUES ('p1', '+33612345601', 'UTC'), "
            "('p2', '+33612345602', 'Asia/Tokyo'), ('p3', '+33612345603', 'Mars/Olympus')"
        )
    return schema


def test_quiet_hours_hold_or_exclude_marketing_sms_in_the_profile_time_zone():
    schema = _zoned_schema()
    now = timezone.now().astimezone(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=3)
    window = f"{start:%H:%M}-{end:%H:%M}"  # UTC is quiet now; Tokyo (UTC+9) is not
    population = populations.from_rule(schema=schema, where={"and": []})
    common = {"population": population, "channel": "sms", "content": {"text": "Hi"}, "owner": {}}
    zone = {"timezone": "UTC"}
    with override_settings(QUIET_HOURS=window):
        short = channels.stage(**common, validity_hours=1, engagement=zone)
        long = channels.stage(**common, validity_hours=12, engagement=zone)
        receipts = channels.stage(**common, category="transactional", validity_hours=1)
    # p1 (UTC) and p3 (an unknown zone: the campaign's, UTC) are in quiet hours until `end`
    assert short.excluded == {"quiet_hours": 2} and short.staged == 1
    assert long.excluded == {} and long.staged == 3
    long.refresh_from_db()
    assert abs((long.not_before - end.replace(second=0, microsecond=0)).total_seconds()) < 61
    assert short.not_before is None  # p2 (Tokyo) may go now
    Delivery.objects.filter(pk=long.pk).update(status="sending")
    assert jobs.send_delivery(long.pk).startswith("waiting for the end of quiet hours")
    assert fates(long) == {"queued": 3}
    assert receipts.excluded == {}
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE data_{schema.name} CASCADE")


def test_the_admin_records_a_consent_through_the_service_and_shows_errors_beside_fields(shop):
    from django.contrib.admin.models import LogEntry

    user = staff_with("channels.add_consent", "channels.view_consent", name="clerk")
    client = Client()
    client.force_login(user)
    form = {"schema": shop.pk, "key": "", "channel": "email", "category": "marketing",
            "status": "opt_out", "address": "", "source": ""}  # fmt: skip
    refused = client.post("/admin/channels/consent/add/", form)
    assert refused.status_code == 200 and b"is required" in refused.content
    assert not Consent.objects.exists()
    saved = client.post("/admin/channels/consent/add/", {**form, "key": "c004"})
    assert saved.status_code == 302
    consent = Consent.objects.get()
    assert (consent.key, consent.source) == ("c004", "admin")
    assert LogEntry.objects.filter(object_id=str(consent.pk), user=user).exists()
    assert stage(shop, keys=["c004"], test=True).excluded == {"opted_out": 1}
    assert client.get("/admin/channels/suppression/").status_code == 403  # no view_suppression
