"""The example campaign of ``seed_demo``: seeded, exported, imported through ``import_campaign``,
test-run by real worker processes to ``succeeded``, each transition's count against plain SQL."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from audiences import demo as audience_demo
from campaigns import definitions, demo, services
from campaigns.models import Campaign, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(90),
]

BUYERS = """SELECT c.customer_id FROM data_customer c WHERE c.country = 'FR' AND EXISTS (
    SELECT 1 FROM data_purchase p JOIN data_product pr ON pr.product_id = p.product_id
    WHERE p.customer_id = c.customer_id AND pr.category IN ('shoes', 'sport'))"""
SUBSCRIBERS = """SELECT c.customer_id FROM data_customer c WHERE EXISTS (
    SELECT 1 FROM data_subscription s WHERE s.customer_id = c.customer_id AND s.status = 'active')"""
UPDATED = """SELECT customer_id FROM data_customer
    WHERE email IS NOT NULL AND updated_at >= '2026-01-01'"""


BOTH = f"({BUYERS} INTERSECT {SUBSCRIBERS})"
# Staged = valid addresses, one recipient per address (design 9 exclusions), written by hand.
STAGED_EMAILS = """SELECT count(DISTINCT lower(btrim(c.email))) FROM data_customer c
    WHERE c.customer_id IN {both} AND btrim(c.email) ~ '^[^@[:space:]]+@[^@[:space:]]+[.][a-z]+$'"""
STAGED_PHONES = """SELECT count(DISTINCT c.phone) FROM data_customer c
    WHERE c.customer_id IN {both} AND c.phone ~ '^[+][1-9][0-9]{{6,14}}$'"""


def _drop_demo_tables():
    """Transactional tests commit: drop the demo tables and the populations' tables."""
    from audiences.models import Population

    with connection.cursor() as cursor:
        for pk in Population.objects.values_list("pk", flat=True):
            cursor.execute(f"DROP TABLE IF EXISTS pop_{pk}")
        for name in reversed(audience_demo.ORDER):
            cursor.execute(f"DROP TABLE IF EXISTS data_{name} CASCADE")


@pytest.fixture
def seeded(transactional_db):
    _drop_demo_tables()
    call_command("seed_demo", profiles=300)
    yield
    _drop_demo_tables()


def sql(query):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def expected_counts():
    """Every transition's count, written as SQL over the demo tables (None: carries nothing)."""
    buyers = sql(f"SELECT count(*) FROM ({BUYERS}) b")
    subscribers = sql(f"SELECT count(*) FROM ({SUBSCRIBERS}) s")
    updated = sql(f"SELECT count(*) FROM ({UPDATED}) u")
    both = sql(f"SELECT count(*) FROM ({BUYERS} INTERSECT {SUBSCRIBERS}) i")
    either_not_both = sql(
        f"SELECT count(*) FROM (({BUYERS} UNION {SUBSCRIBERS}) "
        f"EXCEPT ({BUYERS} INTERSECT {SUBSCRIBERS})) x"
    )
    updated_non_buyers = sql(f"SELECT count(*) FROM ({UPDATED} EXCEPT {BUYERS}) e")
    return {
        ("buyers", "out", "buyers_fork"): buyers,
        ("buyers", "empty", "no_buyers"): None,
        ("buyers_fork", "out", "subscribed_buyers"): buyers,
        ("subscribers", "out", "subscribed_buyers"): subscribers,
        ("buyers_fork", "out", "updated_non_buyers"): buyers,
        ("updated", "out", "updated_non_buyers"): updated,
        ("subscribed_buyers", "out", "size_check"): both,
        ("subscribed_buyers", "complement", "not_both"): either_not_both,
        ("size_check", "large", "reach"): both,
        ("reach", "out", "sign_off"): both,
        ("reach", "out", "winback_mail"): both,
        ("reach", "out", "winback_sms"): both,
        ("winback_mail", "out", "mailed"): sql(STAGED_EMAILS.format(both=BOTH)),
        ("winback_sms", "out", "texted"): sql(STAGED_PHONES.format(both=BOTH)),
        ("size_check", "default", "too_small"): None,
        ("sign_off", "approved", "cool_off"): both,
        ("sign_off", "rejected", "rejected"): None,
        ("sign_off", "expired", "expired"): None,
        ("cool_off", "out", "together"): both,
        ("updated_non_buyers", "out", "together"): updated_non_buyers,
        ("together", "out", "notify"): both,
        ("notify", "out", "done"): both,
    }


def import_through_command(campaign, tmp_path, capsys):
    path = tmp_path / "example.json"
    call_command("export_campaign", campaign.pk, output=str(path))
    capsys.readouterr()
    call_command("import_campaign", str(path))
    pk = int(capsys.readouterr().out.split("\t")[0])
    return Campaign.objects.get(pk=pk), json.loads(path.read_text())


def counts(run):
    from campaigns.api import run_data

    return {(t["from"], t["port"], t["to"]): t["count"] for t in run_data(run)["transitions"]}


FLOW_KINDS = {
    "build_audience",
    "read_audience",
    "incremental_query",
    "combine",
    "fork",
    "and_join",
    "test",
    "wait",
    "end",
    "alert",
    "approval",
}
CHANNEL_KINDS = {"email", "sms"}


def test_seeded_example_is_a_valid_draft_using_every_flow_kind(seeded):
    from campaigns.activities import registry

    call_command("seed_demo", profiles=300)  # idempotent: no second campaign
    (campaign,) = Campaign.objects.filter(name__startswith=demo.NAME)
    assert campaign.status == "draft"
    assert services.validation_errors(campaign) == []
    assert FLOW_KINDS <= {kind.type for kind in registry.all()}
    assert {a["type"] for a in demo.definition()["activities"]} == FLOW_KINDS | CHANNEL_KINDS


def test_imported_example_test_runs_to_succeeded_with_sql_counts(seeded, engine, tmp_path, capsys):
    engine.worker()
    engine.worker()
    engine.tick()
    imported, document = import_through_command(
        Campaign.objects.get(name=demo.NAME), tmp_path, capsys
    )
    exported = definitions.export(imported)
    assert {**exported, "name": document["name"]} == document
    expected = expected_counts()
    assert expected[("size_check", "large", "reach")] >= 10, "the data takes the large branch"
    assert expected[("buyers", "out", "buyers_fork")] > 0

    run = final_run(services.test_run(campaign=imported, user=SYSTEM), timeout=75)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert counts(run) == expected
    statuses = dict(run.activity_runs.values_list("key", "status"))
    skipped = {"no_buyers", "too_small", "rejected", "expired"}
    assert {k for k, s in statuses.items() if s == "skipped"} == skipped
    assert {k for k, s in statuses.items() if s != "skipped"} == {
        a["id"] for a in document["activities"]
    } - skipped
    assert set(statuses.values()) == {"succeeded", "skipped"}
    state = run.activity_runs.get(key="updated").state
    newest = sql(
        "SELECT max(updated_at) FROM data_customer "
        "WHERE email IS NOT NULL AND updated_at >= '2026-01-01'"
    )
    assert state["mark_before"] is None
    assert state["would_move_to"] == newest.isoformat()
    assert run.activity_runs.get(key="notify").state["note"] == "not sent (test run)"
    # What the test run did instead of waiting for people and time, as the run API shows it.
    from campaigns.api_runs import run_data

    shown = run_data(run)["activities"]
    assert (shown["sign_off"]["test_effect"], shown["cool_off"]["test_effect"]) == (
        "auto_approved",
        "wait_skipped",
    )
    assert shown["cool_off"]["note"] == "not waited (test run; a live run waits 1d)"
    assert shown["sign_off"]["note"].startswith("auto-approved (test run)")


def test_the_example_sends_its_email_and_sms_for_real(seeded, tmp_path):
    """Published, the example's email (after its send confirmation) and SMS branches send to a
    real SMTP server and a real HTTP server; the rest of the run waits on its approval."""
    import phonenumbers

    from campaigns.models import ActivityRun, HumanTask
    from channels.models import Delivery
    from tests.channels.conftest import sending_engine, wait_for
    from tests.channels.servers import HTTPSink, SMTPSink

    smtp, http_sink = SMTPSink().start(), HTTPSink().start()
    engine = sending_engine(smtp=smtp, http_sink=http_sink)
    try:
        engine.worker()
        engine.tick()
        campaign = Campaign.objects.get(name=demo.NAME)
        services.publish(campaign=campaign, user=SYSTEM)
        run = campaign.runs.get()
        task = wait_for(
            lambda: HumanTask.objects.filter(run=run, kind="send_confirmation").first(), 60
        )
        services.decide_task(task=task, user=SYSTEM, decision="approved")
        mailed = wait_for(
            lambda: ActivityRun.objects.filter(
                run=run, key="winback_mail", status="succeeded"
            ).first(),
            60,
        )
        texted = wait_for(
            lambda: ActivityRun.objects.filter(
                run=run, key="winback_sms", status="succeeded"
            ).first(),
            60,
        )
        assert (
            mailed.counts["out"] == len(smtp.messages) == sql(STAGED_EMAILS.format(both=BOTH)) > 0
        )
        assert max(smtp.count_by_address().values()) == 1
        assert texted.counts["out"] == len(http_sink.requests) > 0
        sms = Delivery.objects.get(run_id=run.pk, activity_key="winback_sms")
        late = sms.messages.filter(status="excluded", chunk__isnull=False)  # exact check at send
        assert {m.reason for m in late} <= {"invalid_address"}
        assert all(not phonenumbers.is_valid_number(phonenumbers.parse(m.address)) for m in late)
        assert len(http_sink.requests) + late.count() == sql(STAGED_PHONES.format(both=BOTH))
        first = smtp.messages[0]
        name = sql(f"SELECT first_name FROM data_customer WHERE lower(email) = '{first['to']}'")
        assert first["subject"].startswith(f"{name}, your FR win-back offer")
        services.stop(campaign=campaign, user=SYSTEM)
    finally:
        engine.stop()
        engine.flush_redis()
        smtp.stop()
        http_sink.stop()
