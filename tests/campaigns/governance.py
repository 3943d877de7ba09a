"""Helpers of the governance tests: a campaign with a channel activity, policies, people in roles."""

from campaigns import definitions, services
from campaigns.models import ApprovalPolicy, Campaign
from config.access import SYSTEM
from tests.conftest import member_of


def mailing(schema, name="Spring mailing", country="FR", schedule=None):
    """build_audience (country) -> notice (a test channel) -> end."""
    return {
        "name": name,
        "schedule": schedule or {"frequency": "asap"},
        "activities": [
            {
                "id": "aud",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "country", "op": "eq", "value": country},
            },
            {"id": "mail", "type": "notice", "subject": "Hello", "text": "Spring is here."},
            {"id": "done", "type": "end"},
        ],
        "transitions": [{"from": "aud", "to": "mail"}, {"from": "mail", "to": "done"}],
    }


def policy(group, condition="always", approvals=1, **extra):
    return ApprovalPolicy.objects.create(
        name=f"{condition} {approvals}", condition=condition, approvals=approvals, group=group,
        **extra,
    )  # fmt: skip


def people(roles):
    """ed (Editor), pub (Publisher), ann and bob (Approvers)."""
    return {
        "ed": member_of(roles["Editor"], "ed"),
        "pub": member_of(roles["Publisher"], "pub"),
        "ann": member_of(roles["Approver"], "ann"),
        "bob": member_of(roles["Approver"], "bob"),
    }


def edited(campaign, user, **changes):
    """The campaign after ``user`` replaced its definition with ``changes`` to the first
    activity (``where``, ``position``, ``label``...)."""
    document = definitions.export(Campaign.objects.get(pk=campaign.pk))
    document["activities"][0].update(changes)
    return services.replace_definition(campaign=campaign, document=document, user=user)


def created(schema, **kwargs):
    return services.create_from_definition(document=mailing(schema, **kwargs), user=SYSTEM)
