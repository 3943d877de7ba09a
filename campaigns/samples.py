"""What a channel activity would send to a few real recipients, for approvers (issue 14, design
10's send confirmation): ``SAMPLE_SIZE`` recipients of the population that reached the activity
in a run, each with their attributes and the activity's content for them.

- ``for_definition(definition, run, user) -> [{"activity", "type", "label", "note",
  "rendered", "recipients": [{"key", "profile", "content"}]}]``: one entry per channel activity
  (``campaigns.policies.channel_activities``), in definition order. The recipients come from
  the population on the activity's inbound transition in ``run`` (the latest test run, or the
  live run waiting on the task); they are personal data, so they need
  ``audiences.view_records`` (without it, or without a run that reached the activity, ``note``
  says why and ``recipients`` is empty).
- ``render_sample(*, activity, profile, variables) -> (content, rendered)``: THE hook where the
  channel layer's personalization (design 5.5: Jinja2, sandboxed; ``profile``, ``target``,
  ``vars``) plugs in: ``content`` maps each content option of the activity (subject, html,
  text, title, body...) to what this recipient would get, and ``rendered`` says whether it
  was rendered. Until that renderer exists it returns the options as written, not rendered.
"""

from campaigns import reads
from campaigns.activities import registry
from campaigns.policies import channel_activities
from config.access import allowed
from config.errors import NotFound

SAMPLE_SIZE = 3
CONTENT_WIDGETS = ("template", "textarea")


def content_options(activity: dict) -> dict:
    """The options of a channel activity that make its message (by the kind's widget hints:
    templates and long texts, plus ``category``); every string option when none is marked."""
    kind = registry.get(activity["type"])
    schema = kind.options.get("properties", {})
    marked = [name for name, node in schema.items() if node.get("x-widget") in CONTENT_WIDGETS] + [
        name for name in ("category",) if name in schema
    ]
    names = marked or [name for name, node in schema.items() if node.get("type") == "string"]
    return {name: activity.get(name) for name in names}


def render_sample(*, activity: dict, profile: dict, variables: dict) -> tuple[dict, bool]:
    return content_options(activity), False


def _inbound(definition, key):
    return next((t for t in definition.get("transitions", []) if t.get("to") == key), None)


def _recipients(definition, activity, run, user):
    if not allowed(user, "audiences.view_records"):
        return [], "recipients are personal data: they need audiences.view_records"
    if run is None:
        return [], "no test run yet: test-run the campaign to see sample recipients"
    inbound = _inbound(definition, activity["id"])
    if inbound is None:
        return [], "nothing flows into this activity"
    try:
        page = reads.rows(
            run, inbound["from"], inbound.get("port", "out"), user=user, page_size=SAMPLE_SIZE
        )
    except NotFound as exc:  # the run was of an earlier definition, without this transition
        return [], f"run {run.pk}: {exc}"
    if not page.rows:
        return [], f"nobody reached {activity['id']} in run {run.pk}"
    return page.rows, ""


def for_definition(definition: dict, run, user) -> list[dict]:
    found = []
    variables = run.variables if run is not None else {}
    for activity in channel_activities(definition):
        rows, note = _recipients(definition, activity, run, user)
        recipients, rendered = [], False
        for row in rows:
            content, rendered = render_sample(activity=activity, profile=row, variables=variables)
            recipients.append({"key": row.get("key"), "profile": row, "content": content})
        found.append(
            {
                "activity": activity["id"],
                "type": activity["type"],
                "label": activity.get("label", ""),
                "note": note,
                "rendered": rendered,
                "options": content_options(activity),
                "recipients": recipients,
            }
        )
    return found
