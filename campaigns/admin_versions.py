"""The versions of a campaign in the admin (issue 14): the list on the campaign page and a
readable side-by-side diff between any two (``<id>/versions/?a=1&b=2``; ``b=draft`` compares
with the current definition), built on the RFC 6902 patch of ``campaigns.diffs`` (the one
``versions/{n}/`` serves, keyed by activity id, position and label left out).

- ``versions_list(campaign)``: the numbered versions (who published, when, approved or not), each
  with a link comparing it with the one before, and a form to compare any two;
- ``approval_box(campaign)``: why the campaign is in its state (``status_note``) and the open
  publication tasks, with links, for the campaign page;
- ``compare_view(model_admin, request, pk)``: the comparison page.
"""

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from campaigns import admin_review, definitions, diffs
from campaigns.models import Campaign
from campaigns.services import approvals
from config.errors import NotFound


def _numbered(campaign):
    return campaign.versions.filter(number__isnull=False).select_related("created_by")


def versions_list(campaign):
    versions = list(_numbered(campaign).order_by("-number"))
    if not versions:
        return "No version yet: publishing numbers version 1."
    approved = set(
        _numbered(campaign)
        .filter(approval_tasks__decision="approved")
        .values_list("number", flat=True)
    )
    url = reverse("admin:campaigns_campaign_versions", args=[campaign.pk])
    rows = format_html_join(
        "",
        '<tr class="version-row"><td>version {}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td><a href="{}?a={}&amp;b={}">changes</a></td></tr>',
        (
            (
                v.number,
                v.created_at.strftime("%Y-%m-%d %H:%M"),
                v.created_by or "the system",
                "approved" if v.number in approved else "published",
                url,
                v.number - 1,
                v.number,
            )
            for v in versions
        ),
    )
    return format_html(
        '<table class="campaign-versions"><tr><th>version</th><th>published</th><th>by</th>'
        "<th></th><th></th></tr>{}</table>"
        '<p><a href="{}?a={}&amp;b=draft">Compare the current definition with version {}</a></p>',
        rows,
        url,
        versions[0].number,
        versions[0].number,
    )


def approval_box(campaign):
    waiting = list(approvals.waiting(campaign).select_related("group"))
    links = format_html_join(
        ", ",
        '<a href="{}">task {}</a> ({}, {} of {} approvals)',
        (
            (
                reverse("admin:campaigns_humantask_change", args=[t.pk]),
                t.pk,
                t.group,
                t.approvals.count(),
                t.approvals_needed,
            )
            for t in waiting
        ),
    )
    if not campaign.status_note and not waiting:
        return "-"
    waits = format_html("<br>Tasks: {}", links) if waiting else ""
    return format_html(
        '<div class="campaign-approval">{}{}</div>', campaign.status_note or "", waits
    )


def _side(campaign, value):
    """``(definition, title)`` of one side: a version number, ``draft``, or 0 (nothing)."""
    if value == "draft":
        return definitions.export(campaign), "the current definition"
    if value in ("", "0", None):
        return None, "nothing (a new campaign)"
    if not str(value).isdigit():
        raise NotFound(f"no version {value!r}")
    version = campaign.versions.filter(number=int(value)).first()
    if version is None:
        raise NotFound(f"no version {value}")
    return version.definition, f"version {version.number}"


def compare_view(model_admin, request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    latest = _numbered(campaign).order_by("-number").first()
    a = request.GET.get("a") or (str(latest.number - 1) if latest else "0")
    b = request.GET.get("b") or (str(latest.number) if latest else "draft")
    (before, before_title), (after, after_title) = _side(campaign, a), _side(campaign, b)
    changes = [c.as_dict() for c in diffs.changes(before, after)]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{campaign}: changes from {before_title} to {after_title}",
        "opts": model_admin.model._meta,
        "campaign": campaign,
        "numbers": list(_numbered(campaign).order_by("number").values_list("number", flat=True)),
        "a": a,
        "b": b,
        "diff_html": admin_review.diff_table(changes, before_title, after_title),
        "patch": diffs.patch(before, after),
    }
    return TemplateResponse(request, "admin/campaigns/campaign/versions.html", context)
