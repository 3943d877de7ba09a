"""Pieces of the campaign admin pages that are not ModelAdmin configuration: the graph picture,
validation grouped by activity, and the rows of a run's transition.

- ``graph_svg(activities, transitions, counts)`` a small inline SVG: activities laid out in layers
  by their depth from the entry activities (longest path), transitions as lines labelled with
  their port and, when given, their count in a run (``-`` when the port carried nothing).
- ``picture(activities, transitions, run)`` the one caller of ``graph_svg``: every graph of the
  admin goes through it (``campaign_picture``: the draft with the latest run's counts;
  ``run_picture``: a run's version with its counts; ``definition_picture``: any definition
  with a run's counts, for the task review).
- ``errors_by_activity(campaign)`` ``{activity key or "": [message, ...]}`` from validation.
- ``kinds_reference()`` the registered kinds with help texts, ports and default options.
- ``transition_rows(run, source, port, user, limit)`` ``(population, headers, rows)``: the first
  rows of the population that left ``source`` by ``port`` (``campaigns.reads.rows``: key, added
  columns, then the schema's plain attributes), or ``(None, [], [])`` when it carried nothing.

The counts and rows come from ``campaigns.reads``, as the API's and the ``alert`` activity's do.
"""

import json
import re

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from campaigns import definitions, reads, services, words
from campaigns.activities import registry
from campaigns.models import Activity

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 150, 44, 70, 26, 12
ACTIVITY_PATH = re.compile(r"^activities\[(\d+)\]")


def _depths(keys, edges):
    """Longest-path depth of each key from the keys without inputs; a cycle stops after n rounds."""
    depth = dict.fromkeys(keys, 0)
    for _round in range(len(keys)):
        changed = False
        for source, target in edges:
            if source in depth and target in depth and depth[target] < depth[source] + 1:
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    return depth


def _layout(activities, transitions):
    depth = _depths([key for key, _t in activities], [(t[0], t[2]) for t in transitions])
    rows, where = {}, {}
    for key, _type in activities:
        row = rows.get(depth[key], 0)
        rows[depth[key]] = row + 1
        where[key] = (
            PAD + depth[key] * (NODE_W + GAP_X),
            PAD + row * (NODE_H + GAP_Y),
        )
    return where


def _edge(where, source, port, target, count):
    (x1, y1), (x2, y2) = where[source], where[target]
    x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
    label = port if count is False else f"{port}: {'-' if count is None else count}"
    return format_html(
        '<g class="edge"><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888" '
        'marker-end="url(#arrow)"/><text x="{}" y="{}" font-size="11" text-anchor="middle" '
        'fill="#333">{}</text></g>',
        x1,
        y1,
        x2,
        y2,
        (x1 + x2) / 2,
        (y1 + y2) / 2 - 4,
        label,
    )


def _node(where, key, kind, status, label=""):
    x, y = where[key]
    fill = {"succeeded": "#e3f4e1", "failed": "#fbe3e3", "skipped": "#eee"}.get(status, "#eef3fb")
    return format_html(
        '<g class="activity" data-key="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="6" '
        'fill="{}" stroke="#5b7fb5"/><text x="{}" y="{}" font-size="12" font-weight="bold">{}'
        '</text><text x="{}" y="{}" font-size="11" fill="#555">{}</text></g>',
        key,
        x,
        y,
        NODE_W,
        NODE_H,
        fill,
        x + 8,
        y + 17,
        (label or key)[:22],
        x + 8,
        y + 34,
        f"{kind} {status}".strip(),
    )


def graph_svg(activities, transitions, counts=None, statuses=None):
    """``activities``: [(key, type[, label])]; ``transitions``: [(from, port, to)]; ``counts``: {(from,
    port): count, or None when the port carried nothing}, or None to leave counts out (a port not
    in ``counts`` has not been computed yet: no count shown); ``statuses``: {key: status}."""
    if not activities:
        return mark_safe('<p class="help">No activities yet.</p>')
    where = _layout([(a[0], a[1]) for a in activities], transitions)
    statuses = statuses or {}
    width = max(x for x, _y in where.values()) + NODE_W + PAD
    height = max(y for _x, y in where.values()) + NODE_H + PAD
    known = [t for t in transitions if t[0] in where and t[2] in where]
    edges = format_html_join(
        "",
        "{}",
        (
            (_edge(where, s, p, t, False if counts is None else counts.get((s, p), False)),)
            for s, p, t in known
        ),
    )
    nodes = format_html_join(
        "",
        "{}",
        (
            (_node(where, key, kind, statuses.get(key, ""), rest[0] if rest else ""),)
            for key, kind, *rest in activities
        ),
    )
    return format_html(
        '<svg class="campaign-graph" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 '
        'L 0 10 z" fill="#888"/></marker></defs>{}{}</svg>',
        width,
        height,
        width,
        height,
        edges,
        nodes,
    )


def run_counts(run):
    """``({(from, port): count or None}, {key: status})`` of ``run``'s activity runs."""
    statuses = {key: ar.status for key, ar in reads.activities(run).items()}
    return reads.counts(run), statuses


def picture(activities, transitions, run=None):
    """THE one place the admin draws a campaign graph: the campaign page, a run's page and a
    task's review all come here (the canvas that replaces ``graph_svg`` changes this function
    only). ``activities``: [(key, type, label)]; ``transitions``: [(from, port, to)]; ``run``:
    whose counts and statuses to show, or None."""
    counts, statuses = run_counts(run) if run is not None else (None, None)
    return graph_svg(activities, transitions, counts, statuses)


def campaign_picture(campaign):
    activities = list(
        Activity.objects.non_polymorphic()
        .filter(campaign=campaign)
        .order_by("order", "id")
        .values_list("key", "type", "label")
    )
    transitions = list(
        campaign.transitions.order_by("order", "id").values_list(
            "source__key", "port", "target__key"
        )
    )
    return picture(activities, transitions, campaign.runs.order_by("-created_at", "-id").first())


def definition_picture(definition, run=None):
    """The graph of a definition document, with the counts of ``run`` (a task's review)."""
    activities = [(a["id"], a["type"], a.get("label", "")) for a in definition["activities"]]
    transitions = [(t["from"], t.get("port", "out"), t["to"]) for t in definition["transitions"]]
    return picture(activities, transitions, run)


def run_picture(run):
    return definition_picture(run.version.definition, run)


def errors_by_activity(campaign):
    """Validation errors of the draft, grouped by the key of the activity their path names, in
    words (``campaigns.words``: "rule › condition 2 › field: unknown field 'town'"; the campaign's
    own errors name their activity by its label or key).
    Kept on the ``campaign`` instance: one page asks several times (panel, inline, message)."""
    cached = getattr(campaign, "_errors_by_activity", None)
    if cached is not None:
        return cached
    keys = list(
        Activity.objects.non_polymorphic()
        .filter(campaign=campaign)
        .order_by("order", "id")
        .values_list("key", flat=True)
    )
    grouped, document = {}, None
    try:
        document = definitions.export(campaign)
        errors = services.validation_errors(campaign)
    except KeyError as exc:  # a kind no longer registered (a removed plugin)
        errors = [{"path": "activities", "message": f"unknown activity type {exc}"}]
    for error in errors:
        match = ACTIVITY_PATH.match(error["path"])
        key = keys[int(match.group(1))] if match and int(match.group(1)) < len(keys) else ""
        text = words.sentence(error, document, within_activity=bool(key))
        grouped.setdefault(key, []).append(text)
    campaign._errors_by_activity = grouped
    return grouped


def transition_rows(run, source, port, user, limit=50):
    population = reads.population(run, source, port)
    if population is None:
        return None, [], []
    page = reads.rows(run, source, port, user=user, page_size=limit)
    return population, page.columns, [[row[h] for h in page.columns] for row in page.rows]


def activity_runs_table(run):
    """Each activity run: status, timing, attempts, error and its traceback folded."""
    rows = format_html_join(
        "",
        '<tr class="activity-run"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                ar.key,
                ar.type,
                ar.status,
                ar.attempt,
                ar.started_at or "-",
                ar.finished_at or "-",
                _seconds(ar.started_at, ar.finished_at),
                _error(ar) or (ar.state or {}).get("note", ""),
            )
            for ar in run.activity_runs.order_by("id")
        ),
    )
    return format_html(
        "<table><tr><th>activity</th><th>type</th><th>status</th><th>attempts</th>"
        "<th>started</th><th>finished</th><th>duration</th><th>error or note</th></tr>{}</table>",
        rows,
    )


def _seconds(start, end):
    return f"{(end - start).total_seconds():.2f} s" if start and end else "-"


def _error(ar):
    if not ar.error and not ar.traceback:
        return ""
    if not ar.traceback:
        return ar.error
    return format_html(
        "{}<details><summary>traceback</summary><pre>{}</pre></details>", ar.error, ar.traceback
    )


def _records_link(run, transition):
    try:
        url = reverse(
            "admin:campaigns_run_records", args=[run.pk, transition["from"], transition["port"]]
        )
    except NoReverseMatch:  # a key with a "/" cannot be a URL segment
        return ""
    return format_html('<a href="{}">rows</a>', url)


def transitions_table(run):
    """The count on each transition of the run's version, each linked to its first 50 rows;
    ``-`` for a port that carried nothing, blank for one not computed yet."""
    rows = []
    for t in reads.transitions(run):
        shown = {"pending": "", "nothing": "-"}.get(t["state"], t["count"])
        link = _records_link(run, t) if t["state"] == "carried" else ""
        rows.append((t["from"], t["port"], t["to"], shown, link))
    body = format_html_join(
        "",
        '<tr class="transition"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        rows,
    )
    return format_html(
        "<table><tr><th>from</th><th>port</th><th>to</th><th>count</th><th></th></tr>{}</table>",
        body,
    )


def kinds_reference():
    """Every registered activity kind: its help text, ports and options with their defaults."""
    rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        (
            (
                kind.type,
                kind.help_text,
                ", ".join(kind.ports_for(kind.defaults)),
                json.dumps(kind.defaults, sort_keys=True),
            )
            for kind in sorted(registry.all(), key=lambda k: k.type)
        ),
    )
    return format_html(
        '<details class="activity-kinds"><summary>Activity kinds and their options</summary>'
        "<table><tr><th>type</th><th>what it does</th><th>ports</th><th>options (defaults)</th>"
        "</tr>{}</table></details>",
        rows,
    )


GROUP_TITLES = {"targeting": "Targeting", "flow": "Flow control", "channels": "Channels"}


def add_activity_menu(campaign):
    """Links to add each registered kind to ``campaign``, grouped as the canvas palette is."""
    url = reverse("admin:campaigns_activity_add")
    groups = []
    for group, title in GROUP_TITLES.items():
        kinds = [k for k in registry.all() if k.group == group]
        if not kinds:
            continue
        links = format_html_join(
            " · ",
            '<a href="{}?campaign={}&amp;type={}" title="{}">{}</a>',
            ((url, campaign.pk, k.type, k.help_text, k.label or k.type) for k in kinds),
        )
        groups.append((title, links))
    return format_html_join("", '<p class="add-activity"><strong>{}</strong>: {}</p>', groups)


def launch_plan(campaign):
    """The next five launches (in the campaign's time zone, and UTC) and the last ten, with why
    a launch was skipped (design 11)."""
    from datetime import UTC

    from campaigns import schedules
    from campaigns.versions import live_schedule

    tz = schedules.zone(live_schedule(campaign))
    upcoming = services.upcoming(campaign)
    nexts = format_html_join(
        "",
        '<li>{} <span class="help">({} UTC)</span></li>',
        (
            (t.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z"), t.astimezone(UTC).strftime("%H:%M"))
            for t in upcoming
        ),
    )
    past = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                launch.scheduled_for.astimezone(tz).strftime("%d %b %Y %H:%M"),
                launch.status,
                launch.reason or (f"run {launch.run_id}" if launch.run_id else ""),
            )
            for launch in campaign.launches.all()[:10]
        ),
    )
    head = (
        format_html('<p>Next: <ul class="next-launches">{}</ul></p>', nexts)
        if upcoming
        else (format_html("<p>{}</p>", "No launch ahead."))
    )
    if not past:
        return head
    return format_html(
        '{}<table class="launch-history"><tr><th>scheduled for</th><th>status</th>'
        "<th>run or reason</th></tr>{}</table>",
        head,
        past,
    )


def channel_activities(campaign) -> list[str]:
    """The keys of the campaign's channel activities (for the proof form)."""
    from campaigns.activities.channel import ChannelKind

    keys = []
    for activity in campaign.activities.non_polymorphic().order_by("order", "id"):
        try:
            kind = registry.get(activity.type)
        except KeyError:
            continue
        if isinstance(kind, ChannelKind):
            keys.append(activity.key)
    return keys
