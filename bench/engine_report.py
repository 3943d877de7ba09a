"""The table and the RESULTS.md section of bench/engine.py (no ``main``: ``make bench`` skips it)."""

import os
import time

from bench import engine_support as support


def verdict(value, limit):
    return "met" if value <= limit else f"NOT met (by {(value - limit) / limit:.0%})"


def row(measure, value, baseline="", ratio=None, limit=None, judged=None):
    """A table row; the target is ``<= limit`` on ``judged`` (default: the ratio)."""
    judged = ratio if judged is None else judged
    target = f"<= {limit} {verdict(judged, limit)}" if limit is not None else ""
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
        row(name, f"{per:.1f} ms", f"one UPDATE + COMMIT {floor:.2f} ms", per / floor, 10, per),
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
