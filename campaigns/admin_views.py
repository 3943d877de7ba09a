"""Pieces of the campaign admin pages that are not ModelAdmin configuration: the graph picture,
validation grouped by activity, and the rows of a run's transition.

- ``picture(definition, run, campaign, request)``: every graph of the admin goes through it,
  drawn by the canvas (``campaigns.admin_canvas``, design 12): ``campaign_picture``, the draft
  with the latest run's counts (editable when allowed); ``run_picture``, a run's version with its
  counts; ``definition_picture``, any definition with a run's counts (the task review).
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

from campaigns import definitions, reads, services, words
from campaigns.activities import registry
from campaigns.models import Activity

ACTIVITY_PATH = re.compile(r"^activities\[(\d+)\]")


def picture(definition, run=None, campaign=None, request=None):
    """THE one place the admin draws a campaign graph: the campaign page (editable there when
    the campaign and the user allow it), a run's page and a task's review all come here, and
    all draw with the canvas (``campaigns.admin_canvas``). ``run``: whose statuses and counts
    to show, or None."""
    from campaigns import admin_canvas

    return admin_canvas.component(definition, run=run, campaign=campaign, request=request)


def campaign_picture(campaign, request=None):
    """The draft (or open revision) with the latest run's statuses and counts."""
    latest = campaign.runs.order_by("-created_at", "-id").first()
    try:
        document = definitions.export(campaign)
    except KeyError:  # a kind no longer registered (a removed plugin): draw what is there
        document = _rows_document(campaign)
    return picture(document, latest, campaign, request)


def _rows_document(campaign):
    activities = (
        Activity.objects.non_polymorphic()
        .filter(campaign=campaign)
        .order_by("order", "id")
        .values_list("key", "type", "label", "position")
    )
    transitions = campaign.transitions.order_by("order", "id").values_list(
        "source__key", "port", "target__key"
    )
    return {
        "name": campaign.name,
        "variables": [],
        "activities": [
            {"id": k, "type": t, "label": label, "position": p} for k, t, label, p in activities
        ],
        "transitions": [{"from": s, "port": p, "to": t} for s, p, t in transitions],
    }


def definition_picture(definition, run=None):
    """The graph of a definition document, with the counts of ``run`` (a task's review)."""
    return picture(definition, run)


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
