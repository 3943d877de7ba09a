"""Sending benchmark (issue 11) on the retail demo set (``manage.py seed_demo``).

Three measures, into an aiosmtpd sink running in a separate process (``bench/send_sink.py``:
it accepts every message and keeps only its Message-ID), with real forking ``manage.py
rqworker`` processes:

(a) Email send speed: ``--send`` recipients (the first customers by id) with a template using two
    profile fields, a linked field (``profile.store.city``), a variable and a ``<style>`` block
    (CSS inlined per message). Ours: a delivery staged by ``channels.services.stage`` and sent by
    1, then 2 workers (chunks, leases, mark batches, exact address checks, the ledger), messages
    per second from the start of sending to the last message at the sink. Baseline, same run:
    the same messages rendered beforehand, sent over ONE SMTP connection (Django's backend, one
    message per call) with no bookkeeping. Ours and the baseline alternate ``--repeat-send``
    times, best of each. Target: ours with one worker >= 0.8 x baseline.
(b) Staging: ``--profiles`` recipients with the exclusions of design 9 (no, invalid and
    duplicate addresses) through ``channels.staging.stage`` (one INSERT ... SELECT counting by
    reason, plus the chunk rows) against the same INSERT ... SELECT written by hand. Runs
    alternated, best of ``--repeat``, tables truncated between runs. Target: <= 1.25.
(c) End to end: a campaign (build_audience of every customer -> email, no confirmation -> end)
    published, from ``publish`` to the last message at the sink, with ``--workers`` workers and
    the tick. Target: wall <= 1.5 x (recipients / baseline rate of (a)) + staging time.

Every sent message is checked against the sink: the ledger's provider ids equal the sink's
Message-IDs, none twice. ``--write`` replaces the "Sending" section of bench/RESULTS.md.

Run: DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/send.py [--profiles 1000000]
     [--send 100000] [--workers 2] [--repeat 3] [--repeat-send 2] [--skip-e2e] [--write]
"""

import argparse
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from engine_support import ensure_data  # noqa: E402 - bench/, the script's folder

from audiences import populations  # noqa: E402
from audiences.models import Population, Schema  # noqa: E402
from channels import profiles, sending, services, staging  # noqa: E402
from channels.models import Delivery  # noqa: E402
from channels.providers.smtp import Backend, email_message  # noqa: E402

TEMPLATE = {
    "subject": "{{ profile.first_name }}, your {{ vars.code }} offer",
    "html": (
        "<html><head><style>p {color: #333333; font-family: Arial} .offer {font-weight: bold}"
        "</style></head><body><p>Hello {{ profile.first_name }} {{ profile.last_name }},</p>"
        '<p class="offer">Your store in {{ profile.store.city }} keeps a {{ vars.code }} '
        "offer for you this week.</p><p>See you soon!</p></body></html>"
    ),
    "from_email": "offers@shop.example",
}
CONTEXT = {"vars": {"code": "SPRING"}, "campaign": {"id": 0, "name": "bench send"}}
LOG = Path(tempfile.gettempdir()) / f"bench_send_{os.getpid()}.log"
LOAD = os.getloadavg()
EXTRA_ENV = {}  # --worker-env NAME=VALUE


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """The separate sink process; ``count()`` and ``last()`` read its status file."""

    def __init__(self):
        self.port = free_port()
        folder = Path(tempfile.mkdtemp(prefix="bench_sink_"))
        self.status, self.ids_file = folder / "status", folder / "ids"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "bench/send_sink.py",
                str(self.port),
                str(self.status),
                str(self.ids_file),
            ],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while not self.status.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def read(self):
        try:
            count, last = self.status.read_text().split()
            return int(count), float(last)
        except (OSError, ValueError):
            return 0, 0.0

    def count(self):
        return self.read()[0]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return [line for line in self.ids_file.read_text().split("\n") if line]


def start_worker(sink, queues=("sending",)):
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_PROVIDER": "smtp",
        "LOG_LEVEL": "WARNING",
        **EXTRA_ENV,
    }
    names = [f"{settings.RQ_QUEUE_PREFIX}{q}" for q in queues]
    with LOG.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", *names, "--with-scheduler"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def start_tick(sink):
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "LOG_LEVEL": "WARNING",
    }
    with LOG.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "campaigns_tick"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cpu_seconds(pids):
    """utime + stime of each process and its children (work horses), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = {}
    for name, pid in pids.items():
        found = 0.0
        for each in [pid, *descendants(pid)]:
            try:
                fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
        total[name] = found
    return total


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            kids = [
                int(x) for x in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
        except OSError:
            kids = []
        found += kids
        todo += kids
    return found


def postgres_cpu():
    """CPU seconds of every postgres process of this machine (the bench's server included)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text or "(postmaster)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def first_customers(n):
    customer = Schema.objects.get(name="customer")
    where = {"field": "customer_id", "op": "lt", "value": f"c{n:07d}"}
    return populations.from_rule(schema=customer, where=where, label=f"bench send {n}")


def truncate():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE channels_chunk, channels_message, channels_ratebucket CASCADE")
    Delivery.objects.all().delete()


def new_delivery(population, label, test=False):
    return Delivery.objects.create(
        channel="email", schema=population.schema, population=population, address_field="email",
        content=TEMPLATE, context=CONTEXT, chunk_size=services.chunk_size(None), test=test,
        campaign_name="bench send", activity_key=label, staged_at=timezone.now(),
        expires_at=timezone.now() + timezone.timedelta(hours=12),
    )  # fmt: skip


HAND = """
INSERT INTO channels_message (delivery_id, key, address, status, reason, chunk)
SELECT %(d)s, key, COALESCE(address, ''),
  CASE WHEN reason IS NULL THEN 'queued' ELSE 'excluded' END, COALESCE(reason, ''),
  CASE WHEN reason IS NULL THEN (row_number() OVER (PARTITION BY reason IS NULL ORDER BY key) - 1)
    / %(size)s END
FROM (
  SELECT key, address, CASE
      WHEN address IS NULL THEN 'no_address'
      WHEN length(address) > 254 OR address !~ %(re)s OR length(split_part(address, '@', 1)) > 64
        THEN 'invalid_address'
      WHEN row_number() OVER (PARTITION BY address IS NULL OR length(address) > 254
        OR address !~ %(re)s OR length(split_part(address, '@', 1)) > 64, lower(address)
        ORDER BY key) > 1 THEN 'duplicate_address'
    END AS reason
  FROM (SELECT p.key, NULLIF(btrim(c.email), '') AS address
        FROM {pop} p LEFT JOIN data_customer c ON c.customer_id = p.key) a
) s
"""


def measure_staging(population, repeat):
    from channels import addresses

    ours, hand = [], []
    for _ in range(repeat):
        truncate()
        delivery = new_delivery(population, "staging ours")
        start = time.perf_counter()
        counts = staging.stage(delivery, population)
        ours.append(time.perf_counter() - start)
        truncate()
        delivery = new_delivery(population, "staging hand")
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                HAND.format(pop=Population.table_of(population.pk)),
                {"d": delivery.pk, "size": delivery.chunk_size, "re": addresses.EMAIL_RE},
            )
            written = cursor.rowcount
        hand.append(time.perf_counter() - start)
        print(f"(b) staging ours {ours[-1]:.2f} s, hand {hand[-1]:.2f} s", flush=True)
    assert written == counts["targeted"], (written, counts)
    truncate()
    return {"ours_s": min(ours), "hand_s": min(hand), "counts": counts}


def prerender(delivery):
    """The staged messages of ``delivery`` rendered (the baseline's input, built beforehand)."""
    rows = list(
        delivery.messages.exclude(status="excluded")
        .order_by("id")
        .values_list("id", "key", "address")
    )
    templates = sending.Templates("email", TEMPLATE)
    found = []
    for start in range(0, len(rows), 5000):
        part = rows[start : start + 5000]
        loaded = profiles.load_profiles(
            delivery.schema, [k for _i, k, _a in part], templates.profile_links
        )
        for ledger_id, key, address in part:
            parts = templates.render(sending.context_for(delivery, loaded.get(key), {}, ledger_id))
            message = sending.outgoing(delivery, address, parts, ledger_id=ledger_id)
            message.message_id = f"<base{ledger_id}@shop.example>"
            found.append(message)
    return found


def baseline(messages, sink):
    backend = Backend(host="127.0.0.1", port=sink.port, timeout=30, fail_silently=False)
    before = sink.count()
    pids = {"sink": sink.process.pid}
    cpu_before, own_before = cpu_seconds(pids), os.times()
    start = time.perf_counter()
    backend.open()
    for message in messages:
        backend.send_messages([email_message(message, backend)])
    backend.close()
    elapsed = time.perf_counter() - start
    while sink.count() < before + len(messages):
        time.sleep(0.05)
    share = {k: round(100 * (v - cpu_before[k]) / elapsed) for k, v in cpu_seconds(pids).items()}
    own = os.times()
    share["sender"] = round(
        100 * (own.user + own.system - own_before.user - own_before.system) / elapsed
    )
    print(f"    CPU % of one core over {elapsed:.0f} s: {share}", flush=True)
    return {"n": len(messages), "s": elapsed, "rate": len(messages) / elapsed, "cpu": share}


def wait_finished(delivery, sink, expected, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status == "finished" and sink.count() >= expected:
            return
        time.sleep(0.2)
    raise RuntimeError(f"delivery {delivery.pk} not finished: {delivery.status}")


def measure_send(population, sink, workers):
    truncate()
    delivery = services.stage(
        population=population, channel="email", content=TEMPLATE, context=CONTEXT,
        owner={"campaign_name": "bench send", "activity_key": f"send x{workers}"},
    )  # fmt: skip
    processes = [start_worker(sink) for _ in range(workers)]
    time.sleep(3)  # the workers are up (import, connect) before the clock starts
    before = sink.count()
    pids = {"sink": sink.process.pid, **{f"worker{i}": p.pid for i, p in enumerate(processes)}}
    cpu_before, pg_before = cpu_seconds(pids), postgres_cpu()
    start = time.time()
    services.start_sending(delivery)
    try:
        wait_finished(delivery, sink, before + delivery.staged, 3600)
        cpu = {k: v - cpu_before[k] for k, v in cpu_seconds(pids).items()}
        cpu["postgres"] = postgres_cpu() - pg_before
    finally:
        stop(processes)
    _count, last = sink.read()
    sent = delivery.messages.filter(status="sent").count()
    wall = last - start
    share = {k: round(100 * v / wall) for k, v in cpu.items()}
    print(f"    CPU % of one core over {wall:.0f} s: {share}", flush=True)
    return {"delivery": delivery, "sent": sent, "s": wall, "rate": sent / wall, "cpu": share}


def sent_of(delivery):
    return list(delivery.messages.filter(status="sent").values_list("provider_id", flat=True))


def check_exactly_once(sent_ids, ids):
    """Every message the ledger says was sent reached the sink, once; nothing else did."""
    mine = [i for i in ids if not i.startswith("<base")]
    assert len(mine) == len(set(mine)), "a message reached the sink twice"
    assert set(mine) == set(sent_ids) and len(sent_ids) == len(set(sent_ids)), (
        len(mine),
        len(sent_ids),
    )
    return len(mine)


def measure_e2e(sink, workers):
    from campaigns import services as campaign_services
    from campaigns.models import Campaign
    from config.access import SYSTEM

    truncate()
    Campaign.objects.filter(name__startswith="bench send e2e").delete()
    document = {
        "name": f"bench send e2e {time.strftime('%H%M%S')}",
        "variables": [{"name": "code", "type": "string", "default": "SPRING"}],
        "activities": [
            {"id": "everyone", "type": "build_audience", "schema": "customer"},
            {
                "id": "mail",
                "type": "email",
                **{k: v for k, v in TEMPLATE.items()},
                "send_confirmation": False,
            },
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "everyone", "to": "mail"}, {"from": "mail", "to": "done"}],
    }
    campaign = campaign_services.create_from_definition(document=document, user=SYSTEM)
    queues = ("engine", "sending")
    processes = [start_worker(sink, queues) for _ in range(workers)] + [start_tick(sink)]
    time.sleep(3)
    before = sink.count()
    start = time.time()
    campaign_services.publish(campaign=campaign, user=SYSTEM)
    run = campaign.runs.get()
    try:
        delivery = None
        while delivery is None:
            delivery = Delivery.objects.filter(run_id=run.pk).first()
            time.sleep(0.5)
        while delivery.status not in ("sending", "finished"):
            time.sleep(0.2)
            delivery.refresh_from_db()
        wait_finished(delivery, sink, before + delivery.staged, 4 * 3600)
    finally:
        stop(processes)
    _count, last = sink.read()
    ar = run.activity_runs.get(key="mail")
    staging_s = (delivery.started_at - ar.started_at).total_seconds()
    sent = delivery.messages.filter(status="sent").count()
    return {"delivery": delivery, "wall_s": last - start, "staging_s": staging_s, "sent": sent,
            "targeted": delivery.targeted, "staged": delivery.staged}  # fmt: skip


def machine():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.machine())  # fmt: skip
    return f"{len(os.sched_getaffinity(0))} CPUs ({cpu}), PostgreSQL {pg}, Python {platform.python_version()}"


def report(args, stage, base, one, two, e2e):
    ratio = one["rate"] / base["rate"]
    lines = [
        "| measure | value | baseline | ratio | target |",
        "|---|---:|---:|---:|---|",
        f"| (a) email send, 1 worker, {one['sent']:,} messages | {one['rate']:,.0f} msg/s | "
        f"{base['rate']:,.0f} msg/s | {ratio:.2f} | >= 0.8 {'met' if ratio >= 0.8 else 'NOT met'} |",
        f"| (a) email send, 2 workers | {two['rate']:,.0f} msg/s | {base['rate']:,.0f} msg/s | "
        f"{two['rate'] / base['rate']:.2f} | |",
    ]
    if stage:
        lines.append(
            f"| (b) staging {stage['counts']['targeted']:,} recipients | {stage['ours_s']:.2f} s | "
            f"{stage['hand_s']:.2f} s | {stage['ours_s'] / stage['hand_s']:.2f} | <= 1.25 "
            f"{'met' if stage['ours_s'] <= 1.25 * stage['hand_s'] else 'NOT met'} |"
        )
    if e2e:
        bound = 1.5 * e2e["staged"] / base["rate"] + e2e["staging_s"]
        lines.append(
            f"| (c) end to end, {e2e['targeted']:,} targeted, {e2e['sent']:,} sent, {args.workers} "
            f"workers | {e2e['wall_s']:.0f} s ({e2e['wall_s'] / 60:.1f} min) | bound {bound:.0f} s | "
            f"{e2e['wall_s'] / bound:.2f} | <= 1.0 {'met' if e2e['wall_s'] <= bound else 'NOT met'} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-send", type=int, default=2)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-staging", action="store_true")
    parser.add_argument("--worker-env", action="append", default=[], help="NAME=VALUE for workers")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    EXTRA_ENV.update(item.split("=", 1) for item in args.worker_env)
    ensure_data(args.profiles)
    print(f"load average {LOAD}; worker logs {LOG}", flush=True)
    stage = (
        None if args.skip_staging else measure_staging(first_customers(args.profiles), args.repeat)
    )
    sink = Sink()
    try:
        small = first_customers(args.send)
        ones, bases, sent_ids = [], [], []
        for _ in range(args.repeat_send):  # alternated: the machine's load moves
            ones.append(measure_send(small, sink, 1))
            sent_ids += sent_of(ones[-1]["delivery"])
            print(f"(a) ours, 1 worker: {ones[-1]['rate']:,.0f} msg/s", flush=True)
            bases.append(baseline(prerender(ones[-1]["delivery"]), sink))
            print(f"(a) baseline: {bases[-1]['rate']:,.0f} msg/s", flush=True)
        one = max(ones, key=lambda r: r["rate"])
        base = max(bases, key=lambda r: r["rate"])
        two = measure_send(small, sink, 2)
        sent_ids += sent_of(two["delivery"])
        print(f"(a) ours, 2 workers: {two['rate']:,.0f} msg/s", flush=True)
        e2e = None if args.skip_e2e else measure_e2e(sink, args.workers)
        if e2e:
            sent_ids += sent_of(e2e["delivery"])
    finally:
        ids = sink.stop()
    checked = check_exactly_once(sent_ids, ids)
    print(f"sink received {len(ids):,} messages; {checked:,} of ours, each once", flush=True)
    table = report(args, stage, base, one, two, e2e)
    print(table)
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":  # noqa
    main()
