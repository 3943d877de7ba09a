"""The product's admin site: titles and an index page that reads as a marketer's tool.

Every admin view it serves gets one guard (``admin_view``): an ``object_id`` from the URL that
cannot be the model's primary key (``campaigns/run/abc/change/``) is the 404 page before the view
runs, so a view that looks the object up itself never meets a ``ValueError``.
"""

import functools

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404

# The index page's shortcuts, in a marketer's order: (app label, model name, title, what it is for).
# Only those registered in this site and visible to the user are shown.
SHORTCUTS = [
    ("audiences", "Schema", "Schemas", "What you know about customers: entities and their links."),
    ("audiences", "SavedAudience", "Audiences", "Saved rules and snapshots to target."),
    ("campaigns", "Campaign", "Campaigns", "Design, publish and follow orchestrated campaigns."),
    ("campaigns", "Run", "Runs", "Each execution of a campaign, activity by activity."),
    ("campaigns", "HumanTask", "Tasks", "Approvals and confirmations waiting for someone."),
    (
        "campaigns",
        "ApprovalPolicy",
        "Approval policies",
        "When publishing needs sign-off, and by whom.",
    ),
    ("admin", "LogEntry", "Audit trail", "Who did what, when: every action on record."),
]
QUEUES = ("Job queues", "Background jobs: imports, campaign steps, sending.")
DATA = ("Data", "Browse, search and sort the records of each schema; import CSV files.")


def shortcuts(app_list):
    """``[{"title", "text", "url"}]`` for the SHORTCUTS present in ``app_list`` (admin URLs)."""
    found = {
        (app["app_label"], model["object_name"]): model.get("admin_url")
        for app in app_list
        for model in app["models"]
    }
    return [
        {"title": title, "text": text, "url": found[(label, name)]}
        for label, name, title, text in SHORTCUTS
        if found.get((label, name))
    ]


def data_shortcut(app_list):
    """The data browser, after Schemas, for those who see the import history it hangs on."""
    from django.urls import reverse

    present = any(
        app["app_label"] == "audiences" and model["object_name"] == "RecordImport"
        for app in app_list
        for model in app["models"]
    )
    return [{"title": DATA[0], "text": DATA[1], "url": reverse("admin:audiences_data")}] * present


def queue_shortcut(user):
    """The job queues dashboard, for those who may open it."""
    from django.urls import reverse

    from config.access import allowed
    from config.queues_dashboard import PERMISSION

    if not allowed(user, PERMISSION):
        return []
    return [{"title": QUEUES[0], "text": QUEUES[1], "url": reverse("django_rq:home")}]


def checked_object_id(view, model):
    """``view`` refusing, with a 404, an ``object_id`` that is not a primary key of ``model``."""

    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        object_id = kwargs.get("object_id")
        if object_id is not None:
            try:
                model._meta.pk.to_python(unquote(object_id))
            except (ValidationError, ValueError, TypeError):
                raise Http404(f"No {model._meta.verbose_name} has the id {object_id!r}.") from None
        return view(request, *args, **kwargs)

    return inner


class CampaignsAdminSite(admin.AdminSite):
    """The back-office as marketers see it."""

    site_header = "Orchestrated campaigns"
    site_title = "Orchestrated campaigns"
    index_title = "Campaign back-office"
    index_template = "admin/campaigns_index.html"
    site_url = "/api/docs/"  # "View site": the REST API's documentation (the product has no site)

    def admin_view(self, view, cacheable=False):
        """Django's, with the ``object_id`` guard of the module docstring for model pages."""
        model = getattr(getattr(view, "__self__", None), "model", None)
        if model is not None:
            view = checked_object_id(view, model)
        return super().admin_view(view, cacheable)

    def index(self, request, extra_context=None):
        app_list = self.get_app_list(request)
        found = shortcuts(app_list)
        found[1:1] = data_shortcut(app_list)
        found += queue_shortcut(request.user)
        context = {"shortcuts": found, **(extra_context or {})}
        return super().index(request, extra_context=context)
