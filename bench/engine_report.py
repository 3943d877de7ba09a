"""The table and the RESULTS.md section of bench/engine.py (no ``main``: ``make bench`` skips it)."""

import os
import time

from bench import engine_support as support

NOTES = [
    "(a) Plain SQL: `CREATE TABLE AS` + `ANALYZE` per materialized step, `count(*)` for test; "
    "fork, and_join and end cost nothing in SQL. Best of the repeats; counts checked equal to "
    "the SQL. The run's three build_audience steps share the two workers, the SQL is the sum of "
    "its steps. What it took at 1M: key-only populations no longer carry a b-tree primary key "
    "(it made writing a working set 2.7x `CREATE TABLE AS`: 582 vs 214 ms for the 363,000 FR "
    "customers; 404 ms with the key built after the insert); at 100k the engine's own cost per "
    "step (b) is what is left above the SQL.",
    "(b) A step now runs in the worker process (no fork), on connections kept between jobs, and "
    "the worker that records a step claims the next one in the same transaction and runs it "
    "(no enqueue or dequeue): one commit and about eight statements per step. Inside = claim to "
    "result (includes the commit of the previous step's transaction, where the claim was made); "
    "between = result to the next claim (save, readiness, one Redis `LLEN`, one advisory lock). "
    "Profile (py-spy on both workers over 40 chains): about 58% of a step waiting for "
    "PostgreSQL, 16% of it in the commit, the rest Django's ORM. The baseline, one `UPDATE` and "
    "its `COMMIT`, shows how much the machine's disk and load set the floor (0.2 to 3.9 ms "
    "across runs of this day).",
    "(c) A fresh engine worker per size; the worker process's own VmHWM (there is no work horse "
    "any more; the rq scheduler child holds about 68 MiB and does not grow either).",
    "(d) Two 100-activity chains started on the two workers; once 10 of their steps are done, "
    "the 1-activity run is test-run; median of 5, each with fresh long runs; alone = the same "
    "with idle workers. Runs with at most 3 activities left go through the `engine` queue, and "
    "a chaining worker lets them pass at its next step.",
    "(e) Long runs wait in `engine_long`, oldest first, and the run being served keeps its "
    "place when it yields, so runs started together finish one after another.",
    "(f) The tick takes over a step whose heartbeat is older than min(R/2, R - 2 x tick) and "
    "whose advisory lock is free; ticks at a fixed rate.",
    "",
    "Before this work (commit 7707545, same machine and data, 2026-12-01, load 0.5): (a) 1M "
    "1.85 s against plain SQL 0.63 s (2.92); (b) 54 ms per activity (13 inside a step, 40 "
    "between steps: enqueue on commit, dequeue, fork, two new connections).",
    "",
]


def verdict(value, limit):
    return "met" if value <= limit else f"NOT met (by {(value - limit) / limit:.0%})"


def row(measure, value, baseline="", ratio=None, limit=None, judged=None, unit=""):
    """A table row; the target is ``<= limit`` on ``judged`` (default: the ratio)."""
    judged = ratio if judged is None else judged
    target = f"<= {limit}{unit} {verdict(judged, limit)}" if limit is not None else ""
    return (measure, value, baseline, "" if ratio is None else f"{ratio:.2f}", target)


def flow_rows(r):
    out = []
    for flow, limit in ((r["flow_small"], 2.0), (r["flow_large"], 1.3)):
        if flow:
            name = f"(a) 10-activity test run, {flow['size']:,} customers"
            sql = f"plain SQL {flow['sql_s']:.3f} s"
            out.append(row(name, f"{flow['run_s']:.3f} s", sql, flow["ratio"], limit))
    return out


def chain_rows(c):
    floor = c["commit_ms"]
    per = c["per_activity_ms"]
    name = f"(b) {c['activities']}-activity chain, per activity (wall {c['run_s']:.2f} s / 100)"
    steps = f"{c['inside_ms']:.1f} / {c['gap_ms']:.1f} ms"
    return [
        row(
            name,
            f"{per:.1f} ms",
            f"one UPDATE + COMMIT {floor:.2f} ms",
            per / floor,
            10,
            per,
            " ms",
        ),
        row("(b) median per step: inside / between steps", steps),
    ]


def rss_rows(small, large):
    ratio = large["worker_kib"] / small["worker_kib"]
    value = f"{large['worker_kib'] / 1024:.0f} MiB at {large['size']:,}"
    baseline = f"{small['worker_kib'] / 1024:.0f} MiB at {small['size']:,}"
    return [row("(c) engine worker peak RSS (VmHWM)", value, baseline, ratio, 1.2)]


def starvation_rows(d):
    name = "(d) 1-activity run while two 100-activity chains run"
    busy, alone = f"{d['busy_s'] * 1000:.0f} ms", f"alone {d['solo_s'] * 1000:.0f} ms"
    return [row(name, busy, alone, d["ratio"], 3)]


def fairness_rows(e):
    first, mean = e["first_s"] / e["solo_s"], e["mean_s"] / e["last_s"]
    through = e["last_s"] / e["sequential_s"]
    last, seq = f"last {e['last_s']:.2f} s", f"back to back {e['sequential_s']:.2f} s"
    return [
        row(
            f"(e) {e['runs']} runs together: first done",
            f"{e['first_s']:.2f} s",
            f"alone {e['solo_s']:.2f} s",
            first,
            3,
        ),
        row("(e) mean completion / last", f"{e['mean_s']:.2f} s", last, mean, 0.6),
        row("(e) last completion / back to back", f"{e['last_s']:.2f} s", seq, through, 1.0),
    ]


def takeover_rows(f):
    name = f"(f) kill -9 to takeover (R={f['reconcile_after']} s, tick {f['tick']} s)"
    bound = f"bound: heartbeat age {f['stale']:.0f} s + tick"
    ratio = f["seconds"] / f["reconcile_after"]
    return [row(name, f"{f['seconds']:.1f} s", bound, ratio, 1.0)]


def rows(r):
    """(measure, value, baseline, ratio, target) for the table."""
    out = flow_rows(r)
    parts = (
        ("chain", chain_rows),
        ("rss", lambda pair: rss_rows(*pair)),
        ("starvation", starvation_rows),
        ("fairness", fairness_rows),
        ("takeover", takeover_rows),
    )
    for key, make in parts:
        if r[key]:
            out += make(r[key])
    return out


def report(args, r, load):
    table = ["| measure | value | baseline (same run) | ratio | target |", "|---|---|---|---|---|"]
    table += ["| " + " | ".join(cells) + " |" for cells in rows(r)]
    durability = ", ".join(f"{k}={v}" for k, v in r["durability"].items())
    lines = [
        "## Engine",
        "",
        f"`bench/engine.py --profiles {args.profiles} --workers {args.workers} --repeat "
        f"{args.repeat}` on {time.strftime('%Y-%m-%d %H:%M')}: {r['customers']:,} customers; "
        f"{support.machine()}; {durability}; {args.workers} engine workers "
        "(`manage.py campaigns_worker`) and one `campaigns_tick`, same machine; load average "
        f"{load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.",
        "",
        *table,
        "",
    ]
    lines += NOTES
    if r["fairness"]:
        lines += [f"(e) completion times (s after the common start): {r['fairness']['order']}", ""]
    if r["starvation"]:
        d = r["starvation"]
        lines += [
            f"(d) {d['long_still_running']} of the {d['long_runs']} long runs were still going "
            "when the short run ended.",
            "",
        ]
    return "\n".join(table), "\n".join(lines)
