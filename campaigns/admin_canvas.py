"""The canvas of the admin (design 12): one drawing component for the campaign page (editable while
the campaign is, by users who may edit it), a run's page and an approver's task (read-only, with
that run's statuses and counts). The drawing itself is plain JavaScript under
``campaigns/static/campaigns/canvas/`` (laid out by the vendored elkjs); this module only gives it
its data and the thin endpoints it calls, each a service call:

- ``component(definition, run=None, campaign=None, request=None)``: the HTML of the canvas (a
  JSON config, the container, the scripts). ``admin_views.picture`` is its one caller.
- ``<pk>/canvas/save/`` (POST ``{"definition": DOCUMENT}``): ``services.replace_definition``, as
  the API's ``PUT``: a well-formed draft is saved even when incomplete; the answer carries the
  validation errors by activity, in words. A malformed document: 400 ``{"errors": [...]}``.
- ``<pk>/canvas/test-run/`` (POST ``{"variables": {...}}``): ``services.test_run``.
- ``canvas/runs/<run>/`` (GET): the run as the API gives it, with each activity's traceback and
  state (attempts, log and error for the canvas's activity panel).

Counts on transitions, a transition's rows, the kinds of the palette and a channel activity's
rendered preview come from the public API (``runs/``, ``kinds/``, ``campaigns/{id}/preview/``).
"""

import json

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join, json_script

from audiences.widgets import RULE_BUILDER_CSS, RULE_BUILDER_JS
from campaigns import admin_views, definitions, lifecycle, services, words
from campaigns.admin_forms import REFERENCES
from campaigns.admin_inlines import can_edit
from campaigns.api_runs import run_data
from campaigns.models import Campaign, Run
from config.access import allowed
from config.errors import DomainError, Forbidden, NotFound, ValidationFailed

SCRIPTS = [
    "campaigns/vendor/elkjs/elk.bundled.js",
    "campaigns/canvas/model.js",
    "campaigns/canvas/view.js",
    "campaigns/canvas/panel.js",
    "campaigns/canvas/runs.js",
    "campaigns/canvas/canvas.js",
]
# The rule builder's scripts, attached by the side panel itself (not on page load).
EDITOR_SCRIPTS = [s for s in RULE_BUILDER_JS if not s.endswith("/autoload.js")]
STYLES = ["campaigns/canvas/canvas.css", *RULE_BUILDER_CSS]


def _readonly_reason(campaign, request):
    if campaign is None:
        return "A run's graph: read-only."
    if not allowed(request.user, "campaigns.change_campaign"):
        return "You may view this campaign, not change it."
    if not lifecycle.ACTIONS["edit"].applies(campaign):
        return "Published: read-only. Open a revision (Revise) to change it."
    return ""


def _urls(campaign):
    urls = {
        "kinds": reverse("kinds"),
        "runApi": reverse("run-list"),
        "runDetail": reverse("admin:campaigns_canvas_run", args=[0]).replace("/0/", "/{id}/"),
        "runAdmin": reverse("admin:campaigns_run_change", args=[0]).replace("/0/", "/{id}/"),
        "fields": "/api/schemas/{schema}/fields/",
    }
    if campaign is not None:
        urls.update(
            save=reverse("admin:campaigns_canvas_save", args=[campaign.pk]),
            testRun=reverse("admin:campaigns_canvas_test_run", args=[campaign.pk]),
            preview=reverse("campaign-preview", args=[campaign.pk]),
            ruleContext=reverse("campaign-rule-context", args=[campaign.pk]),
        )
    return urls


def _run(run):
    """The run as ``canvas/runs/<id>/`` gives it, so that the first drawing has its counts."""
    return json.loads(JsonResponse(run_details(run)).content)


def config(definition, *, run=None, campaign=None, request=None) -> dict:
    """What the canvas script reads: the definition, the run to draw, what may be done."""
    editable = campaign is not None and request is not None and can_edit(request, campaign)
    found = {
        "campaign": campaign.pk if campaign is not None else None,
        "definition": definition,
        "run": _run(run) if run is not None else None,
        "editable": editable,
        "readonly": "" if editable or request is None else _readonly_reason(campaign, request),
        "errors": admin_views.errors_by_activity(campaign) if campaign is not None else {},
        "urls": _urls(campaign),
        "canTestRun": bool(
            campaign is not None
            and request is not None
            and any(a.name == "test_run" for a in lifecycle.available(campaign, request.user))
        ),
        "canViewRecords": (
            allowed(request.user, "audiences.view_records") if request is not None else None
        ),
    }
    if editable:
        found["choices"] = {name: sorted(names()) for name, names in REFERENCES.items()}
    return found


def component(definition, *, run=None, campaign=None, request=None):
    data = config(definition, run=run, campaign=campaign, request=request)
    scripts = SCRIPTS if not data["editable"] else EDITOR_SCRIPTS + SCRIPTS
    ident = f"campaign-canvas-{campaign.pk if campaign else 'run'}-{run.pk if run else 0}"
    return format_html(
        '{}{}<div class="campaign-canvas" data-config="{}" aria-label="Campaign canvas"></div>{}',
        format_html_join("", '<link rel="stylesheet" href="{}">', ((static(s),) for s in STYLES)),
        json_script(data, ident),
        ident,
        format_html_join("", '<script src="{}"></script>', ((static(s),) for s in scripts)),
    )


def _body(request):
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationFailed([{"path": "", "message": "not JSON"}]) from None
    if not isinstance(body, dict):
        raise ValidationFailed([{"path": "", "message": "must be an object"}])
    return body


def _refused(exc, document=None):
    if isinstance(exc, ValidationFailed):
        errors = [{**e, "words": words.sentence(e, document)} for e in exc.errors]
        return JsonResponse({"errors": errors}, status=400)
    code = 403 if isinstance(exc, Forbidden) else 404 if isinstance(exc, NotFound) else 409
    return JsonResponse(
        {"errors": [{"path": "", "message": str(exc), "words": str(exc)}]}, status=code
    )


def save_view(request, pk):
    """The canvas's Save: the whole definition through the API's service."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method != "POST":
        return JsonResponse({"errors": [{"path": "", "message": "POST only"}]}, status=405)
    document = None
    try:
        document = _body(request).get("definition")
        saved = services.replace_definition(campaign=campaign, document=document, user=request.user)
    except DomainError as exc:
        return _refused(exc, document if isinstance(document, dict) else None)
    return JsonResponse(
        {
            "saved": True,
            "definition": definitions.export(saved),
            "errors": admin_views.errors_by_activity(saved),
            "status_note": saved.status_note,
        }
    )


def test_run_view(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method != "POST":
        return JsonResponse({"errors": [{"path": "", "message": "POST only"}]}, status=405)
    try:
        variables = _body(request).get("variables") or None
        run = services.test_run(campaign=campaign, user=request.user, variables=variables)
    except DomainError as exc:
        return _refused(exc, definitions.export(campaign))
    return JsonResponse(
        {"run": run.pk, "url": reverse("admin:campaigns_run_change", args=[run.pk])}
    )


def run_details(found):
    """The run as the API gives it, plus each activity's traceback, due time and state."""
    data = run_data(found)
    for ar in found.activity_runs.all():
        if ar.key in data["activities"]:
            state = ar.state or {}
            data["activities"][ar.key].update(
                traceback=ar.traceback,
                due_at=ar.due_at,
                state={k: v for k, v in state.items() if k not in ("note", "test_effect")},
            )
    return data


def run_view(request, run):
    found = get_object_or_404(Run.objects.select_related("version"), pk=run)
    if not allowed(request.user, "campaigns.view_campaign"):
        return JsonResponse({"errors": [{"path": "", "message": "not allowed"}]}, status=403)
    return JsonResponse(run_details(found))


def urls(admin_site):
    wrap = admin_site.admin_view
    return [
        path("<int:pk>/canvas/save/", wrap(save_view), name="campaigns_canvas_save"),
        path("<int:pk>/canvas/test-run/", wrap(test_run_view), name="campaigns_canvas_test_run"),
        path("canvas/runs/<int:run>/", wrap(run_view), name="campaigns_canvas_run"),
    ]
