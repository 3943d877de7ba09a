"""Exactly once (design 10): a kill -9 of a worker mid-chunk, a FLUSHALL mid-send, pause and
resume during a send, a transient-error storm. Each ends with every staged recipient sent exactly
once or counted ``unknown``, none sent twice (counted at the SMTP server), none lost."""

import time

import pytest
from django.conf import settings

from campaigns import services
from campaigns.models import RunStatus
from channels.models import Delivery
from config.access import SYSTEM
from tests.channels.conftest import final_run, wait_for
from tests.channels.helpers import delivery_of, document, grow, no_address_twice, publish

pytestmark = [
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
TOTAL = 200


def started(shop, smtp, senders, rate=20, **env):
    grow(shop, TOTAL)
    engine = senders(smtp=smtp, **env)
    worker = engine.worker()
    engine.tick()
    _campaign, run = publish(document(shop, throttle_per_second=rate))
    return engine, worker, run


def test_a_worker_killed_mid_chunk_loses_at_most_a_batch_and_resends_nothing(shop, smtp, senders):
    engine, worker, run = started(shop, smtp, senders)
    wait_for(lambda: len(smtp.messages) >= 45, 60, 0.05)
    engine.kill(worker)
    at_kill = len(smtp.messages)
    engine.worker()
    run = final_run(run, 120)
    assert run.status == RunStatus.SUCCEEDED, run.error
    counts = no_address_twice(smtp, delivery_of(run))
    assert counts.get("unknown", 0) <= settings.SEND_MARK_BATCH
    assert counts["sent"] + counts.get("unknown", 0) == TOTAL
    assert len(smtp.messages) > at_kill  # the other worker took the chunk over


def test_losing_redis_mid_send_loses_and_repeats_nothing(shop, smtp, senders):
    engine, _worker, run = started(shop, smtp, senders, SEND_JOB_SECONDS=2)
    for _ in range(3):
        target = len(smtp.messages) + 25
        wait_for(lambda target=target: len(smtp.messages) >= target, 60, 0.05)
        engine.flush_redis()
    run = final_run(run, 120)
    assert run.status == RunStatus.SUCCEEDED, run.error
    counts = no_address_twice(smtp, delivery_of(run))
    assert counts == {"sent": TOTAL}


def test_pause_holds_resume_continues_none_resent(shop, smtp, senders):
    _engine, _worker, run = started(shop, smtp, senders)
    wait_for(lambda: len(smtp.messages) >= 40, 60, 0.05)
    services.pause(campaign=run.campaign, user=SYSTEM)
    wait_for(lambda: Delivery.objects.get(run_id=run.pk).status == "held", 20)
    time.sleep(1.5)
    held = len(smtp.messages)
    time.sleep(2)
    assert len(smtp.messages) == held < TOTAL  # nothing goes while paused
    services.resume(campaign=run.campaign, user=SYSTEM)
    run = final_run(run, 120)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert no_address_twice(smtp, delivery_of(run)) == {"sent": TOTAL}


def test_stop_ends_the_send_and_cancels_what_is_left(shop, smtp, senders):
    _engine, _worker, run = started(shop, smtp, senders)
    wait_for(lambda: len(smtp.messages) >= 30, 60, 0.05)
    services.stop(campaign=run.campaign, user=SYSTEM)
    delivery = wait_for(
        lambda: (d := Delivery.objects.get(run_id=run.pk)).status == "stopped" and d, 30
    )
    time.sleep(1)
    received = smtp.count_by_address()
    fates = dict(delivery.messages.values_list("address", "status"))
    assert max(received.values()) == 1
    assert {a for a, s in fates.items() if s == "sent"} == set(received)
    assert set(fates.values()) <= {"sent", "cancelled", "unknown"}
    assert list(fates.values()).count("cancelled") > 0


def test_a_transient_error_storm_ends_with_each_sent_once(shop, smtp, senders):
    smtp.policy = lambda address, attempt: (451, "try again later") if attempt <= 2 else None
    _engine, _worker, run = started(shop, smtp, senders, rate=None, SEND_RETRY_SECONDS="0.01")
    run = final_run(run, 120)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert no_address_twice(smtp, delivery_of(run)) == {"sent": TOTAL}
    assert set(smtp.attempts.values()) == {3}


def test_permanent_refusals_fail_and_are_not_retried(shop, smtp, senders):
    smtp.policy = lambda address, attempt: (
        (550, "no such user") if address.startswith("c1") else None
    )
    _engine, _worker, run = started(shop, smtp, senders, rate=None)
    run = final_run(run, 120)
    delivery = delivery_of(run)
    failed = dict(delivery.messages.filter(status="failed").values_list("address", "error"))
    assert set(failed) == {a for a in smtp.attempts if a.startswith("c1")}
    assert all("550" in e for e in failed.values())
    assert {smtp.attempts[a] for a in failed} == {1}
    assert run.activity_runs.get(key="send").counts["out"] == TOTAL - len(failed)


def test_the_next_batch_is_marked_while_one_is_sent_never_more_than_the_bound(shop, smtp, senders):
    """Pipelined marks: while one half batch is being sent, the next is already committed
    ``sending``; the two together never exceed ``SEND_MARK_BATCH`` (the crash bound)."""
    _engine, _worker, run = started(shop, smtp, senders)
    delivery = wait_for(lambda: Delivery.objects.filter(run_id=run.pk).first(), 60)
    wait_for(lambda: len(smtp.messages) >= 10, 60, 0.02)
    seen = []
    while len(smtp.messages) < TOTAL - 20:
        seen.append(delivery.messages.filter(status="sending").count())
        time.sleep(0.01)
    assert max(seen) <= settings.SEND_MARK_BATCH
    assert max(seen) > settings.SEND_MARK_BATCH // 2
    run = final_run(run, 120)
    assert no_address_twice(smtp, delivery_of(run)) == {"sent": TOTAL}
