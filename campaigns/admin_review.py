"""HTML pieces of what an approver sees (``campaigns.review``) and of version diffs, for the task
page and the campaign's version comparison.

- ``diff_table(changes, before, after)``: a side-by-side table (``table.version-diff``), one row
  per change: what (setting, activity and option, transition), the value before, the value
  after; added rows green, removed red, changed amber.
- ``samples_block(samples)``: per channel activity, the sample recipients with their attributes
  and the content they would get (``div.task-samples``).
- ``graph_block(review, definition, run)``: the graph (``admin_views.definition_picture``, the
  one graph component) with a line saying whose counts these are.
"""

import json

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from campaigns import admin_views

WORDS = {"added": "added", "removed": "removed", "changed": "changed"}


def _value(value, section=""):
    if value is None:
        return ""
    if section == "transition":
        return format_html("{} &mdash;{}&rarr; {}", value["from"], value["port"], value["to"])
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)
    return format_html("<pre>{}</pre>", text)


def _what(change):
    if change["section"] == "setting":
        return format_html("setting <strong>{}</strong> {}", change["key"], change["change"])
    if change["section"] == "transition":
        return format_html("transition <strong>{}</strong> {}", change["key"], change["change"])
    if change["field"]:
        return format_html(
            "activity <strong>{}</strong>: option <code>{}</code> changed",
            change["key"],
            change["field"],
        )
    return format_html("activity <strong>{}</strong> {}", change["key"], change["change"])


def diff_table(changes, before, after):
    """``changes``: dicts of ``campaigns.diffs.Change.as_dict``; ``before`` / ``after``: the
    column titles (``version 2``, ``the definition to approve``)."""
    if not changes:
        return format_html(
            '<p class="version-diff-empty">{}</p>', "No change (positions and labels aside)."
        )
    rows = format_html_join(
        "",
        '<tr class="diff-{}"><td>{}</td><td class="diff-before">{}</td>'
        '<td class="diff-after">{}</td></tr>',
        (
            (
                c["change"],
                _what(c),
                _value(c["before"], c["section"]),
                _value(c["after"], c["section"]),
            )
            for c in changes
        ),
    )
    return format_html(
        '<table class="version-diff"><thead><tr><th>what</th><th>{}</th><th>{}</th></tr>'
        "</thead><tbody>{}</tbody></table>",
        before,
        after,
        rows,
    )


def _profile(profile):
    shown = [(k, v) for k, v in profile.items() if k != "key" and v not in (None, "")][:6]
    return format_html_join(mark_safe("<br>"), "{}: {}", shown)


def _content(content, rendered):
    fields = format_html_join(
        "", "<dt>{}</dt><dd>{}</dd>", ((k, v if v is not None else "") for k, v in content.items())
    )
    label = "" if rendered else format_html('<p class="help">{}</p>', "as written (not rendered)")
    return format_html("<dl>{}</dl>{}", fields, label)


def _one_activity(sample):
    head = format_html("<h3>{} ({})</h3>", sample["label"] or sample["activity"], sample["type"])
    if not sample["recipients"]:
        return format_html(
            '{}<p class="help">{}</p>{}', head, sample["note"],
            _content(sample["options"], True),
        )  # fmt: skip
    rows = format_html_join(
        "",
        '<tr class="sample-recipient"><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (r["key"], _profile(r["profile"]), _content(r["content"], sample["rendered"]))
            for r in sample["recipients"]
        ),
    )
    return format_html(
        "{}<table><tr><th>recipient</th><th>attributes</th><th>content</th></tr>{}</table>",
        head,
        rows,
    )


def samples_block(samples):
    if not samples:
        return format_html('<p class="help">{}</p>', "No channel activity: nothing is sent.")
    return format_html(
        '<div class="task-samples">{}</div>',
        format_html_join("", "{}", ((_one_activity(s),) for s in samples)),
    )


def graph_block(review, definition, run):
    graph = review["graph"]
    if run is None:
        words = "No test run of this definition yet: no counts."
    elif graph["run_test"]:
        words = f"Counts of test run {run.pk} ({run.status})."
    else:
        words = f"Counts of run {run.pk} ({run.status})."
    return format_html(
        '<p class="help">{}</p>{}', words, admin_views.definition_picture(definition, run)
    )
