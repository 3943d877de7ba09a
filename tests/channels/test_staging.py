"""Staging (design 10, step 1): one INSERT ... SELECT, one row per recipient, exclusions counted
by reason; test runs stage, count and render samples, and send nothing."""

import pytest
from django.db import connection
from django.db.models import F

from audiences import dynamic, populations
from campaigns import services
from campaigns.models import RunStatus
from channels import exclusions
from channels import services as channels
from channels.models import Delivery, OutboxMessage
from config.access import SYSTEM
from tests.channels.conftest import final_run
from tests.channels.helpers import document, fates

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = {"campaign_name": "t", "activity_key": "send"}


def messy(shop):
    """c1: no email, c2: invalid, c3 and c4 share an address (case differs), c5 passes the SQL check
    but not email-validator (a special-use domain); c6 no phone, c7 a phone with spaces."""
    table = f"data_{shop.name}"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET email = NULL, phone = NULL WHERE customer_id = 'c001'")
        cursor.execute(
            f"UPDATE {table} SET email = 'nope.example.com', phone = '12' WHERE customer_id = 'c002'"
        )
        cursor.execute(f"UPDATE {table} SET email = 'C4@Example.com ' WHERE customer_id = 'c003'")
        cursor.execute(f"UPDATE {table} SET email = 'c5@shop.invalid' WHERE customer_id = 'c005'")
        cursor.execute(f"UPDATE {table} SET phone = '' WHERE customer_id = 'c006'")
        cursor.execute(f"UPDATE {table} SET phone = '+33 6 12 34 00 07' WHERE customer_id = 'c007'")


def everyone(shop):
    return populations.from_rule(schema=shop, where={"and": []})


def test_staging_counts_each_reason_once(shop):
    messy(shop)
    delivery = channels.stage(
        population=everyone(shop),
        channel="email",
        content={"subject": "s", "html": "h"},
        owner=OWNER,
        test=True,
    )
    assert delivery.targeted == 20
    assert delivery.excluded == {"no_address": 1, "invalid_address": 1, "duplicate_address": 1}
    assert delivery.staged == 17
    rows = dict(delivery.messages.values_list("key", "reason"))
    assert (rows["c001"], rows["c002"], rows["c003"], rows["c004"]) == (
        "no_address",
        "invalid_address",
        "",
        "duplicate_address",
    )  # fmt: skip: the first by key keeps a shared address
    assert delivery.messages.count() == 20  # one row per recipient
    assert delivery.messages.get(key="c003").address == "C4@Example.com"


def test_sms_addresses_are_normalized_to_e164(shop):
    messy(shop)
    delivery = channels.stage(
        population=everyone(shop), channel="sms", content={"text": "t"}, owner=OWNER, test=True
    )
    assert delivery.excluded == {"no_address": 2, "invalid_address": 1}
    assert delivery.messages.get(key="c007").address == "+33612340007"


def test_a_new_reason_is_one_entry(shop):
    rule = exclusions.Exclusion(
        "vip_only", lambda s: ("key NOT IN ('c010', 'c011')", []), "Not VIP"
    )
    exclusions.register(rule, before="duplicate_address")
    try:
        delivery = channels.stage(
            population=everyone(shop), channel="email", content={}, owner=OWNER, test=True
        )
    finally:
        exclusions.RULES.remove(rule)
    assert delivery.excluded == {"vip_only": 18} and delivery.staged == 2


def test_samples_see_linked_fields_population_columns_and_variables(shop):
    model = dynamic.get_model(shop.name)
    base = everyone(shop)
    scored = populations.with_columns(
        population=base, columns={"score": (F("points") * 2, "integer")}
    )
    delivery = channels.stage(
        population=scored,
        channel="email",
        content={
            "subject": "{{ profile.first_name }} {{ vars.code }}",
            "html": "<b>{{ profile.store.city }} {{ target.score }}</b>",
        },
        owner=OWNER,
        test=True,
        context={"vars": {"code": "X1"}},
    )
    assert model.objects.count() == 20
    first = delivery.samples[0]
    assert (first["key"], first["subject"]) == ("c001", "Ann1 X1")
    assert first["html"] == "<b>Lyon 20</b>" and first["text"] == "Lyon 20"
    assert len(delivery.samples) == 3


@pytest.mark.workers
@pytest.mark.timeout(90)
def test_a_test_run_stages_counts_and_sends_nothing(shop, smtp, senders):
    messy(shop)
    engine = senders(smtp=smtp)
    engine.worker()
    doc = document(shop)
    doc["activities"][1]["send_confirmation"] = True
    campaign = services.create_from_definition(document=doc, user=SYSTEM)
    run = final_run(services.test_run(campaign=campaign, user=SYSTEM))
    assert run.status == RunStatus.SUCCEEDED, run.error
    delivery = Delivery.objects.get(run_id=run.pk)
    assert delivery.test and delivery.status == "staged"
    assert fates(delivery) == {"queued": 17, "excluded": 3}
    assert run.activity_runs.get(key="send").counts == {"out": 17}
    assert run.activity_runs.get(key="send").state["note"] == "not sent (test run)"
    assert smtp.messages == [] and not OutboxMessage.objects.exists()
    assert not run.humantask_set.exists()
