"""SMS and push through the generic HTTP provider to a real local HTTP server failing on demand:
4xx permanent, 5xx/429 retried, a timeout after the request went out ``unknown`` (never resent),
a slow answer still sent; the Twilio-style form variant; and the throttle shared by 2 workers."""

import pytest

from campaigns.models import RunStatus
from channels.providers import base
from channels.providers.http import FormProvider, HTTPProvider
from tests.channels.conftest import final_run
from tests.channels.helpers import delivery_of, document, grow, publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def sms(to="+33612340001", text="hi"):
    return base.OutgoingMessage(channel="sms", to=to, text=text, message_id="<m1@x>")


def provider(sink, cls=HTTPProvider, **options):
    found = cls(channel="sms", URL=sink.url, TIMEOUT=1, FROM="Shop", **options)
    found.open()
    return found


@pytest.mark.parametrize(
    ("answer", "status", "permanent"),
    [
        ((200, {"id": "abc"}), "sent", False),
        ((400, {"error": "bad number"}), "failed", True),
        ((404, {}), "failed", True),
        ((408, {}), "failed", False),
        ((429, {}), "failed", False),
        ((503, {}), "failed", False),
        ("hang", "unknown", False),
        (("sleep", 0.3), "sent", False),
    ],
)
def test_http_answers_are_classified(http_sink, answer, status, permanent):
    http_sink.hang_seconds = 2
    http_sink.policy = lambda body, attempt: answer
    with provider(http_sink, AUTH_HEADER="Authorization: Bearer s3cret") as p:
        result = p.send(sms())
    assert (result.status, result.permanent) == (status, permanent)
    if answer == (200, {"id": "abc"}):
        assert result.provider_id == "abc"
        request = http_sink.requests[0]
        assert request["body"] == {
            "to": "+33612340001",
            "from": "Shop",
            "text": "hi",
            "reference": "<m1@x>",
        }
        assert request["headers"]["Authorization"] == "Bearer s3cret"


def test_a_refused_connection_is_transient():
    p = HTTPProvider(channel="sms", URL="http://127.0.0.1:9/none", TIMEOUT=1)
    p.open()
    result = p.send(sms())
    assert result.transient and "cannot send" in result.error


def test_the_form_variant_posts_fields_and_reads_sid(http_sink):
    http_sink.policy = lambda body, attempt: (201, {"sid": "SM123"})
    with provider(http_sink, FormProvider, BASIC_AUTH="AC1:tok") as p:
        result = p.send(sms(text="Hé & co"))
    assert result == base.sent("SM123")
    request = http_sink.requests[0]
    assert request["body"] == {"To": "+33612340001", "From": "Shop", "Body": "Hé & co"}
    assert request["headers"]["Authorization"].startswith("Basic ")


@pytest.mark.workers
def test_an_sms_campaign_with_failures_on_demand(shop, http_sink, senders):
    def policy(body, attempt):
        to = body["to"]
        if to.endswith("0003"):
            return (400, {"error": "unknown number"})
        if to.endswith("0004"):
            return (503, {}) if attempt == 1 else (200, {"id": "late"})
        if to.endswith("0005"):
            return "hang"
        return (200, {"id": f"id-{to}"})

    http_sink.hang_seconds = 4
    http_sink.policy = policy
    engine = senders(http_sink=http_sink)
    engine.worker()
    engine.tick()
    _campaign, run = publish(document(shop, channel="sms"))
    run = final_run(run, 90)
    assert run.status == RunStatus.SUCCEEDED, run.error
    delivery = delivery_of(run)
    fates = dict(delivery.messages.values_list("address", "status"))
    assert fates["+33612340003"] == "failed"
    assert fates["+33612340004"] == "sent" and http_sink.attempts["+33612340004"] == 2
    assert fates["+33612340005"] == "unknown" and http_sink.attempts["+33612340005"] == 1
    assert list(fates.values()).count("sent") == 18
    assert delivery.messages.get(address="+33612340001").provider_id == "id-+33612340001"
    texts = {r["body"]["to"]: r["body"]["text"] for r in http_sink.requests}
    assert texts["+33612340002"] == "Hi Ann2"


@pytest.mark.workers
def test_push_renders_the_data_payload(shop, http_sink, senders):
    engine = senders(http_sink=http_sink)
    engine.worker()
    _campaign, run = publish(document(shop, channel="push"))
    run = final_run(run, 90)
    assert run.status == RunStatus.SUCCEEDED, run.error
    sent = {r["body"]["to"]: r["body"] for r in http_sink.requests}
    assert sent["tok7"]["title"] == "Hi Ann7" and sent["tok7"]["data"] == {"customer": "c007"}
    assert sent["tok7"]["body"] == "Code SPRING"


@pytest.mark.workers
def test_the_throttle_holds_for_two_workers_within_ten_percent(shop, http_sink, senders):
    grow(shop, 170)
    engine = senders(http_sink=http_sink)
    engine.worker()
    engine.worker()
    engine.tick()
    _campaign, run = publish(document(shop, channel="sms", throttle_per_second=10))
    run = final_run(run, 120)
    assert run.status == RunStatus.SUCCEEDED, run.error
    times = sorted(r["at"] for r in http_sink.requests)
    assert len(times) == 170
    start = times[0] + 2
    in_window = sum(1 for t in times if start <= t < start + 10)
    assert 90 <= in_window <= 110, in_window
    tokens = set(delivery_of(run).chunks.values_list("claimed_by", flat=True))
    assert len(tokens) >= 2  # chunks were sent by several jobs at once


@pytest.mark.workers
def test_a_provider_hourly_limit_holds_across_deliveries(shop, http_sink, senders):
    grow(shop, 60)
    engine = senders(http_sink=http_sink, SMS_HOURLY_LIMIT=36000)  # 10 a second
    engine.worker()
    engine.worker()
    engine.tick()
    runs = [publish(document(shop, name=f"Limited {n}", channel="sms"))[1] for n in (1, 2)]
    for run in runs:
        assert final_run(run, 120).status == RunStatus.SUCCEEDED
    times = sorted(r["at"] for r in http_sink.requests)
    assert len(times) == 120
    start = times[0] + 1
    in_window = sum(1 for t in times if start <= t < start + 10)
    assert 90 <= in_window <= 110, in_window
