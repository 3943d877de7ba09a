"""The targeting showcase of ``seed_demo``: every targeting activity, test-run by real worker
processes to ``succeeded`` with counts equal to hand-written SQL, save_audience and update_data
recorded as skipped (nothing outside the run changes), the file rows readable on their
transition; then published, its live run saves the audience and writes the records."""

import pytest
from django.core.management import call_command
from django.db import connection

from audiences.models import SavedAudience
from campaigns import demo_targeting, services
from campaigns.models import Campaign, RunStatus
from config.access import SYSTEM
from tests.campaigns.conftest import final_run
from tests.campaigns.test_demo_campaign import _drop_demo_tables

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(150),
]

KINDS = {
    "build_audience",
    "load_file",
    "reconciliation",
    "combine",
    "deduplication",
    "enrichment",
    "split",
    "save_audience",
    "change_dimension",
    "update_data",
}


@pytest.fixture
def seeded(transactional_db, django_user_model):
    _drop_demo_tables()
    django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    call_command("seed_demo", profiles=300)
    yield
    _drop_demo_tables()


def sql(query):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


FRENCH = "SELECT customer_id, email FROM data_customer WHERE country = 'FR'"
HOLDERS = "SELECT customer_id, email FROM data_customer WHERE customer_id IN (SELECT 'c' || lpad(i::text, 7, '0') FROM generate_series(0, 299, 7) i)"


def expected():
    union = f"SELECT customer_id, email FROM ({FRENCH}) f UNION SELECT customer_id, email FROM ({HOLDERS}) h"
    one_per_email = sql(
        f"SELECT count(*) FROM (SELECT DISTINCT ON (COALESCE(NULLIF(lower(email), ''), customer_id)) customer_id FROM ({union}) u) d"
    )
    return {
        ("french", "out"): sql(f"SELECT count(*) FROM ({FRENCH}) f"),
        ("coupons", "out"): len(range(0, 300, 7)) + 1,  # + c9999999; ",NOBODY" and "x" refused
        ("coupons", "rejects"): 2,
        ("coupon_holders", "out"): sql(f"SELECT count(*) FROM ({HOLDERS}) h"),
        ("coupon_holders", "rejects"): 1,
        ("one_per_email", "out"): one_per_email,
    }


def test_showcase_test_runs_green_then_live(seeded, engine):
    engine.worker()
    engine.worker()
    campaign = Campaign.objects.get(name=demo_targeting.NAME)
    assert services.validation_errors(campaign) == []
    assert {a["type"] for a in demo_targeting.definition()["activities"]} - {"end"} == KINDS
    before = sql("SELECT sum(COALESCE(loyalty_points, 0)) FROM data_customer")

    run = final_run(services.test_run(campaign=campaign, user=SYSTEM), timeout=120)
    assert run.status == RunStatus.SUCCEEDED, run.error
    counts = {
        (ar.key, p): c for ar in run.activity_runs.all() for p, c in (ar.counts or {}).items()
    }
    for where, count in expected().items():
        assert counts[where] == count, where
    statuses = dict(run.activity_runs.values_list("key", "status"))
    assert set(statuses.values()) <= {"succeeded", "skipped"}
    notes = {ar.key: ar.state.get("note") for ar in run.activity_runs.all()}
    assert notes["save_vip"].startswith("skipped (test run)")
    assert notes["points_from_orders"].startswith("skipped (test run)")
    assert not SavedAudience.objects.filter(name=demo_targeting.AUDIENCE).exists()
    assert sql("SELECT sum(COALESCE(loyalty_points, 0)) FROM data_customer") == before
    vip, sample, rest = (counts[("tiers", p)] for p in ("vip", "sample", "complement"))
    assert 0 < vip <= 50 and vip + sample + rest == counts[("one_per_email", "out")]
    assert sample == (counts[("one_per_email", "out")] - vip) // 10
    from campaigns.api_runs import run_data

    data = run_data(run)
    assert data["activities"]["save_vip"]["note"].startswith("skipped")
    from campaigns import reads

    page = reads.rows(run, "coupon_holders", "rejects", user=SYSTEM)
    assert page.count == 1 and page.columns[-1] == "reason"
    assert page.rows[0] | {"key": None} == {
        "key": None,
        "customer_id": "c9999999",
        "coupon": "UNKNOWN",
        "points": 1,
        "reason": "no customer matches",
    }

    services.publish(campaign=campaign, user=SYSTEM)
    live = final_run(
        Campaign.objects.get(pk=campaign.pk).runs.filter(test=False).first()
        or _wait_live(campaign),
        timeout=120,
    )
    assert live.status == RunStatus.SUCCEEDED, live.error
    saved = SavedAudience.objects.get(name=demo_targeting.AUDIENCE)
    live_counts = {
        (ar.key, p): c for ar in live.activity_runs.all() for p, c in (ar.counts or {}).items()
    }
    assert saved.count == live_counts[("tiers", "vip")]
    written = live.activity_runs.get(key="points_from_orders").state
    assert written["written"] == live_counts[("tiers", "complement")] - written["rejected"]


def _wait_live(campaign):
    from tests.campaigns.conftest import wait_for

    return wait_for(lambda: Campaign.objects.get(pk=campaign.pk).runs.filter(test=False).first())
