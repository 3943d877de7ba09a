"""Versions of a campaign (design 7, 9): the immutable definitions runs are bound to.

- ``latest_version(campaign)``: the last published (numbered) version, or None;
- ``live_definition(campaign)``: what launches use: the latest version's definition, or the draft
  (``campaigns.definitions.export``) before the first publication;
- ``live_schedule(campaign)``: its schedule. While a revision is open the draft's schedule may
  differ: the live one stays the published version's until the revision is published;
- ``last_approved(campaign, before=None)``: the latest version published through approval
  (a publication task approved it), optionally numbered below ``before``; None if there is none.
"""

from campaigns.models import Version


def latest_version(campaign) -> Version | None:
    return campaign.versions.filter(number__isnull=False).order_by("-number").first()


def live_definition(campaign) -> dict:
    version = latest_version(campaign)
    if version is not None:
        return version.definition
    from campaigns import definitions

    return definitions.export(campaign)


def live_schedule(campaign) -> dict:
    version = latest_version(campaign)
    return version.definition["schedule"] if version is not None else campaign.schedule


def last_approved(campaign, before=None) -> Version | None:
    versions = campaign.versions.filter(
        number__isnull=False, approval_tasks__decision="approved"
    ).distinct()
    if before is not None:
        versions = versions.filter(number__lt=before)
    return versions.order_by("-number").first()
