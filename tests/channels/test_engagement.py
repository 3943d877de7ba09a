"""Consent, tracking, bounces, frequency caps and control groups (issue 13), through the real
public endpoints and a real SMTP server (aiosmtpd on loopback), sent by the real send job."""

import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings

from campaigns.models import RunStatus
from channels import reports
from channels.models import Consent, Event, Suppression
from tests.channels.conftest import final_run
from tests.channels.engagement import local, parts, smtp_settings, stage, stage_and_send
from tests.channels.helpers import delivery_of, document, fates, publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

THREE = ["c001", "c002", "c003"]


def _mail_to(smtp, address):
    (mail,) = [m for m in smtp.messages if m["to"] == address]
    return parts(mail)


def _href(body, prefix):
    found = re.findall(
        r'href="([^"]*/t/c/[^"]*)"' if prefix == "c" else r'src="([^"]*/t/o/[^"]*)"', body
    )
    assert found, body
    return html.unescape(found[0])


def test_a_one_click_unsubscribe_excludes_the_recipient_from_the_next_delivery(shop, smtp):
    User.objects.create_superuser("owner", "owner@example.com", None)  # audit entries' system user
    with connection.cursor() as cursor:  # c002 shares c001's address (another profile)
        cursor.execute(
            f"UPDATE data_{shop.name} SET email = 'C1@Example.com' WHERE customer_id = 'c002'"
        )
    with smtp_settings(smtp):
        first = stage_and_send(shop, keys=THREE)
        assert first.excluded == {"duplicate_address": 1}
        mail = _mail_to(smtp, "c1@example.com")
        headers = mail["headers"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.fullmatch(r"<(.+)>", "".join(headers["List-Unsubscribe"].split())).group(1)
        client = Client()
        page = client.get(local(url))
        assert page.status_code == 200 and b"Unsubscribe?" in page.content
        assert not Consent.objects.exists()  # the page alone changes nothing
        answer = client.post(
            local(url),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.status_code == 200 and b"You are unsubscribed" in answer.content
        consent = Consent.objects.get()
        assert (consent.key, consent.status, consent.channel, consent.address) == (
            "c001", "opt_out", "email", "c1@example.com",
        )  # fmt: skip
        assert "RFC 8058" in consent.source
        assert LogEntry.objects.filter(object_id=str(consent.pk)).exists()  # audited
        smtp.messages.clear()
        second = stage_and_send(shop, keys=THREE)
    # c001 opted out; c002 has the same address: both excluded as opted_out, counted
    assert second.excluded == {"opted_out": 2}
    assert smtp.count_by_address() == {"c3@example.com": 1}
    assert reports.report([first])[first.pk]["unsubscribed"] == 1


def test_a_click_redirects_to_exactly_the_original_url_and_a_tampered_token_nowhere(shop, smtp):
    with smtp_settings(smtp):
        delivery = stage_and_send(shop, keys=["c007"])
    body = _mail_to(smtp, "c7@example.com")["html"]
    assert "shop.example" not in body  # every outside link goes through /t/c/
    tracked = local(_href(body, "c"))
    client = Client()
    answer = client.get(tracked, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    assert answer.status_code == 302
    assert answer["Location"] == "https://shop.example/p?id=c007&ref=mail"
    token = tracked.rsplit("/", 1)[1]
    middle = len(token) // 2
    swapped = "A" if token[middle] != "A" else "B"
    tampered = tracked[: -len(token)] + token[:middle] + swapped + token[middle + 1 :]
    refused = client.get(tampered)
    assert 400 <= refused.status_code < 500 and "Location" not in refused
    assert client.get("/t/c/" + token.replace(":", "")).status_code == 404
    figures = reports.report([delivery])[delivery.pk]
    assert (figures["clicked"], figures["clicks"]) == (1, 1)
    assert Event.objects.get(kind="click").url == "https://shop.example/p?id=c007&ref=mail"


def test_the_pixel_counts_one_unique_open(shop, smtp):
    with smtp_settings(smtp):
        delivery = stage_and_send(shop, keys=["c004", "c005"])
    pixel = local(_href(_mail_to(smtp, "c4@example.com")["html"], "o"))
    client = Client()
    person = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15"
    proxy = (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    for agent in (person, person, proxy):
        answer = client.get(pixel, HTTP_USER_AGENT=agent, HTTP_ACCEPT="image/*")
        assert answer.status_code == 200 and answer["Content-Type"] == "image/gif"
    assert client.get(pixel[:-3] + "xyz").status_code == 404
    figures = reports.report([delivery])[delivery.pk]
    assert (figures["opened"], figures["opens"], figures["bot_opens"]) == (1, 3, 1)
    assert figures["rates"]["opened"] == 50.0  # 1 of 2 sent


def test_a_bounce_webhook_suppresses_the_address_and_a_wrong_secret_gets_403(shop, smtp):
    with smtp_settings(smtp):
        first = stage_and_send(shop, keys=THREE)
    message = first.messages.get(key="c002")
    event = {"event": "bounce", "bounce_type": "hard", "message_id": message.provider_id}
    client = Client()
    with override_settings(WEBHOOK_SECRET="hook-secret"):
        wrong = client.post(
            "/hooks/generic/", event, content_type="application/json", HTTP_X_WEBHOOK_SECRET="nope"
        )
        assert wrong.status_code == 403 and not Suppression.objects.exists()
        assert (
            client.post("/hooks/generic/", event, content_type="application/json").status_code
            == 403
        )
        right = client.post(
            "/hooks/generic/", {"events": [event]}, content_type="application/json",
            HTTP_X_WEBHOOK_SECRET="hook-secret",
        )  # fmt: skip
        assert right.status_code == 200 and right.json()["outcomes"] == ["suppressed"]
        bad = client.post(
            "/hooks/generic/", {"events": [{"event": "nope"}]}, content_type="application/json",
            HTTP_X_WEBHOOK_SECRET="hook-secret",
        )  # fmt: skip
        assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "events[0].event"
    found = Suppression.objects.get()
    assert (found.address, found.reason, found.channel) == (
        "c2@example.com",
        "hard_bounce",
        "email",
    )
    assert reports.report([first])[first.pk]["bounced"] == 1
    marketing = stage(shop, keys=THREE, test=True)
    transactional = stage(shop, keys=THREE, category="transactional", test=True)
    assert marketing.excluded == {"suppressed": 1} == transactional.excluded  # never sent again


def test_the_frequency_cap_excludes_the_third_marketing_message_but_not_a_transactional_one(
    shop, smtp
):
    with smtp_settings(smtp, FREQUENCY_CAP={"messages": 2, "days": 7}):
        for _ in range(2):
            assert stage_and_send(shop, keys=THREE).excluded == {}
        capped = stage_and_send(shop, keys=THREE + ["c004"])
        assert capped.excluded == {"frequency_cap": 3} and capped.staged == 1
        smtp.messages.clear()
        receipt = stage_and_send(shop, keys=THREE, category="transactional")
        assert receipt.excluded == {} and receipt.staged == 3
        assert smtp.count_by_address() == {f"c{i}@example.com": 1 for i in (1, 2, 3)}
        # the campaign's own cap overrides the setting
        looser = stage(shop, keys=THREE, engagement={"frequency_cap": {"messages": 5, "days": 7}})
        assert looser.excluded == {}
    with smtp_settings(smtp, FREQUENCY_CAP={"messages": 3, "days": 7}):
        # 2 marketing + the looser one queued = 3 within 7 days: the next is capped
        assert stage(shop, keys=THREE, test=True).excluded == {"frequency_cap": 3}


@pytest.mark.workers
def test_the_control_group_is_never_sent_is_the_right_size_and_replays_identically(
    shop, smtp, senders
):
    engine = senders(smtp=smtp)
    engine.worker()
    _campaign, run = publish(document(shop, control_group={"percent": 15}))
    run = final_run(run, timeout=60)
    assert run.status == RunStatus.SUCCEEDED, run.error
    delivery = delivery_of(run)
    control = set(delivery.messages.filter(reason="control").values_list("key", flat=True))
    assert delivery.excluded == {"control": 3} and len(control) == round(20 * 0.15)
    assert fates(delivery) == {"sent": 17, "excluded": 3}
    sent_to = set(smtp.count_by_address())
    held_out = {f"c{int(k[1:])}@example.com" for k in control}
    assert len(sent_to) == 17 and not (sent_to & held_out)
    assert run.activity_runs.get(key="send").counts == {"out": 17}
    owner = {"campaign_name": run.campaign.name, "run_id": run.pk, "activity_key": "send"}
    engagement = {"control_group": {"percent": 15}}
    again = stage(shop, owner=owner, engagement=engagement, test=True)
    assert set(again.messages.filter(reason="control").values_list("key", flat=True)) == control
    other = stage(shop, owner={**owner, "activity_key": "other"}, engagement=engagement, test=True)
    assert other.excluded == {"control": 3}
    eighth = stage(shop, owner=owner, engagement={"control_group": {"percent": 12.5}}, test=True)
    assert eighth.excluded == {"control": 3}  # 2.5 recipients round to 3
