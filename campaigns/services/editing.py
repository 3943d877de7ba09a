"""Editing a campaign's definition: create, replace (a draft, or an open revision), revise,
discard a revision, duplicate. See ``campaigns.services``.

Every change of the definition goes through here and ends with ``_changed``: it records who
last changed the definition (four eyes: ``approvals.definition_changed``) and voids a pending
approval bound to another content hash (the campaign returns to draft, saying why). Moving or
relabelling activities changes no hash and voids nothing."""

from django.db import transaction
from django.utils import timezone

from campaigns import definitions, diffs, graph, lifecycle
from campaigns.models import Campaign
from campaigns.services import approvals
from campaigns.versions import latest_version
from config.access import real_user, require
from config.audit import log_change
from config.inputs import max_length


def unique_name(name, exclude=None):
    """``name``, or ``name (copy)``, ``name (copy 2)``... when taken (design 5.0); the name is
    shortened so that the suffix still fits the column."""
    taken = Campaign.objects.exclude(pk=getattr(exclude, "pk", None))
    limit = max_length(Campaign, "name")
    candidate, n = name, 1
    while taken.filter(name=candidate).exists():
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[: limit - len(suffix)] + suffix
        n += 1
    return candidate


def _changed(campaign, user, message, event="edit"):
    voided = approvals.definition_changed(campaign, user)
    details = {"voided": voided} if voided else None
    log_change(
        user=user, obj=campaign, action="change", event=event, message=message, details=details
    )


def locked(campaign) -> Campaign:
    """The campaign's row, locked for the rest of the transaction."""
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


@transaction.atomic
def create_from_definition(*, document, user) -> Campaign:
    require(user, "campaigns.add_campaign", "Creating a campaign")
    definition = definitions.parse(document)
    campaign = Campaign.objects.create(
        name=unique_name(definition["name"]),
        owner=real_user(user),
        changed_by=real_user(user),
        changed_at=timezone.now(),
    )
    definitions.save(campaign=campaign, definition=definition)
    campaign.content_hash = diffs.content_hash(definitions.export(campaign))
    campaign.save(update_fields=["content_hash"])
    log_change(
        user=user, obj=campaign, action="add", event="create", message="Created from a definition."
    )
    return campaign


@transaction.atomic
def replace_definition(*, campaign, document, user) -> Campaign:
    """The new definition of a draft, or of a published campaign's open revision."""
    campaign = locked(campaign)
    lifecycle.check("edit", campaign, user)
    definition = definitions.parse(document)
    if definition["name"] != campaign.name:
        campaign.name = unique_name(definition["name"], exclude=campaign)
    definitions.save(campaign=campaign, definition=definition)
    _changed(campaign, user, "Definition replaced.")
    return campaign


def _renamed(transitions, old, new):
    for t in transitions:
        for end in ("from", "to"):
            if t.get(end) == old:
                t[end] = new
    return transitions


@transaction.atomic
def save_activity(*, campaign, user, activity, replaces=None) -> Campaign:
    """Add ``activity`` (``{"id", "type", "label", "position", **options}``) to the editable
    definition, or replace the activity whose id is ``replaces`` (its transitions follow a new
    id). The whole definition goes through ``definitions.parse``, as a ``PUT`` would."""
    campaign = locked(campaign)
    lifecycle.check("edit", campaign, user)
    document = definitions.export(campaign)
    items = document["activities"]
    ids = [item["id"] for item in items]
    if replaces in ids:
        items[ids.index(replaces)] = activity
        _renamed(document["transitions"], replaces, activity.get("id"))
    else:
        items.append(activity)
    definitions.save(campaign=campaign, definition=definitions.parse(document))
    _changed(campaign, user, f"Activity {activity.get('id')} saved.")
    return campaign


@transaction.atomic
def remove_activity(*, campaign, user, key) -> Campaign:
    """Remove an activity and its transitions from the editable definition."""
    campaign = locked(campaign)
    lifecycle.check("edit", campaign, user)
    document = definitions.export(campaign)
    document["activities"] = [a for a in document["activities"] if a["id"] != key]
    document["transitions"] = [
        t for t in document["transitions"] if key not in (t["from"], t["to"])
    ]
    definitions.save(campaign=campaign, definition=definitions.parse(document))
    _changed(campaign, user, f"Activity {key} removed.")
    return campaign


def validation_errors(campaign) -> list[dict]:
    return graph.validate(definitions.export(campaign))


@transaction.atomic
def revise(*, campaign, user) -> Campaign:
    """Open a revision: the draft graph becomes editable; launches keep the published version."""
    campaign = locked(campaign)
    lifecycle.check("revise", campaign, user)
    version = latest_version(campaign)
    if version is not None:
        definitions.save(campaign=campaign, definition=version.definition)
    campaign.revision_opened_at, campaign.revision_opened_by = timezone.now(), real_user(user)
    campaign.save(update_fields=["revision_opened_at", "revision_opened_by"])
    number = version.number if version else 0
    _changed(campaign, user, f"Revision of version {number} opened.", event="revise")
    return campaign


@transaction.atomic
def discard_revision(*, campaign, user) -> Campaign:
    """Close the open revision; the draft graph returns to the last published version."""
    campaign = locked(campaign)
    lifecycle.check("discard_revision", campaign, user)
    version = latest_version(campaign)
    if version is not None:
        definitions.save(campaign=campaign, definition=version.definition)
        campaign.name = unique_name(version.definition["name"], exclude=campaign)
    campaign.revision_opened_at, campaign.revision_opened_by = None, None
    campaign.save()
    _changed(campaign, user, "Revision discarded.", event="discard_revision")
    return campaign


@transaction.atomic
def duplicate(*, campaign, user) -> Campaign:
    lifecycle.check("duplicate", campaign, user)
    copy = create_from_definition(document=definitions.export(campaign), user=user)
    log_change(
        user=user,
        obj=campaign,
        action="change",
        event="duplicate",
        message=f"Duplicated as {copy}.",
    )
    return copy
