"""The example campaign that ``manage.py seed_demo`` adds (over the retail demo schemas).

``audiences`` never imports ``campaigns``: ``seed_demo`` sends ``audiences.demo.demo_seeded`` and
``CampaignsConfig.ready()`` connects ``on_demo_seeded`` to it. ``ensure_example()`` is idempotent:
it creates what the definition needs when missing (the staff group ``GROUP``, the saved rule
audience ``AUDIENCE``), then the draft campaign named ``NAME`` unless one with that name exists.

The definition (``definition()``) uses every flow activity kind: shoe and sport buyers of a country
(``build_audience`` with ``emit_empty``), the active subscribers (``read_audience``), customers
updated since a date (``incremental_query``), their ``combine`` (intersection with complement,
exclusion), a ``fork``, a ``test`` on the count and a variable, an ``approval``, a ``wait``, an
``and_join``, an ``alert`` and several ``end``s, and reaches the large group by ``email`` (with
send confirmation) and ``sms`` (without) through a ``fork``. It validates, and stays a draft.
"""

from django.contrib.auth.models import Group
from django.db import transaction

NAME = "Demo: shoe and sport buyers win-back"
GROUP = "Marketing managers"
AUDIENCE = "demo_active_subscribers"
AUDIENCE_WHERE = {
    "exists": "subscriptions",
    "where": {"field": "status", "op": "eq", "value": "active"},
}
SINCE = "2026-01-01"
CATEGORIES = ["shoes", "sport"]


def _activities():
    return [
        {
            "id": "buyers",
            "type": "build_audience",
            "schema": "customer",
            "emit_empty": True,
            "where": {
                "and": [
                    {"field": "country", "op": "eq", "var": "country"},
                    {
                        "exists": "purchases",
                        "where": {"field": "product.category", "op": "in", "value": CATEGORIES},
                    },
                ]
            },
        },
        {"id": "subscribers", "type": "read_audience", "audience": AUDIENCE},
        {
            "id": "updated",
            "type": "incremental_query",
            "schema": "customer",
            "where": {"field": "email", "op": "is_not_null"},
            "date_field": "updated_at",
            "since": SINCE,
        },
        {"id": "buyers_fork", "type": "fork"},
        {
            "id": "subscribed_buyers",
            "type": "combine",
            "operation": "intersection",
            "complement": True,
        },
        {
            "id": "updated_non_buyers",
            "type": "combine",
            "operation": "exclusion",
            "primary": "updated",
        },
        {
            "id": "size_check",
            "type": "test",
            "conditions": [
                {
                    "name": "large",
                    "when": {
                        "and": [
                            {"field": "count", "op": "gte", "var": "min_size"},
                            {"field": "vars.country", "op": "is_not_null"},
                        ]
                    },
                }
            ],
        },
        {
            "id": "sign_off",
            "type": "approval",
            "group": GROUP,
            "message": "Please approve the win-back offer for subscribed shoe and sport buyers.",
            "expires_in": "2d",
            "on_expiry": "expired",
        },
        {"id": "cool_off", "type": "wait", "duration": "1d"},
        {"id": "together", "type": "and_join", "primary": "cool_off"},
        {
            "id": "notify",
            "type": "alert",
            "groups": [GROUP],
            "subject": "Win-back demo: counts",
            "message": "The win-back demo campaign reached its last step.",
        },
        {"id": "reach", "type": "fork"},
        {
            "id": "winback_mail",
            "type": "email",
            "subject": "{{ profile.first_name }}, your {{ vars.country }} win-back offer",
            "html": (
                "<html><head><style>.offer {color: #417690; font-weight: bold}</style></head>"
                "<body><p>Hello {{ profile.first_name }} {{ profile.last_name }},</p>"
                "<p>We miss you at <b>{{ profile.store.name }}</b> in {{ profile.store.city }}."
                '</p><p class="offer">20% off your next shoes.</p>'
                '<p><a href="{{ message.view_url }}">View in your browser</a> · '
                '<a href="{{ message.unsubscribe_url }}">Unsubscribe</a></p></body></html>'
            ),
            "send_confirmation": True,
            "throttle_per_second": 200,
        },
        {
            "id": "winback_sms",
            "type": "sms",
            "text": "{{ profile.first_name }}, 20% off shoes at {{ profile.store.name }} this week.",
            "send_confirmation": False,
            "throttle_per_second": 50,
        },
        {"id": "mailed", "type": "end"},
        {"id": "texted", "type": "end"},
        {"id": "done", "type": "end"},
        {"id": "too_small", "type": "end"},
        {"id": "rejected", "type": "end"},
        {"id": "expired", "type": "end"},
        {"id": "not_both", "type": "end"},
        {"id": "no_buyers", "type": "end"},
    ]


TRANSITIONS = [
    ("buyers", "out", "buyers_fork"),
    ("buyers", "empty", "no_buyers"),
    ("buyers_fork", "out", "subscribed_buyers"),
    ("subscribers", "out", "subscribed_buyers"),
    ("buyers_fork", "out", "updated_non_buyers"),
    ("updated", "out", "updated_non_buyers"),
    ("subscribed_buyers", "out", "size_check"),
    ("subscribed_buyers", "complement", "not_both"),
    ("size_check", "large", "reach"),
    ("reach", "out", "sign_off"),
    ("reach", "out", "winback_mail"),
    ("reach", "out", "winback_sms"),
    ("winback_mail", "out", "mailed"),
    ("winback_sms", "out", "texted"),
    ("size_check", "default", "too_small"),
    ("sign_off", "approved", "cool_off"),
    ("sign_off", "rejected", "rejected"),
    ("sign_off", "expired", "expired"),
    ("cool_off", "out", "together"),
    ("updated_non_buyers", "out", "together"),
    ("together", "out", "notify"),
    ("notify", "out", "done"),
]


def definition():
    """The example campaign's design 5.4 document (options left out take their defaults)."""
    return {
        "name": NAME,
        "description": (
            "Example over the demo data: subscribed customers of a country who bought shoes or "
            "sport items, checked for size, signed off by marketing, held for a day, then joined "
            "with the recently updated non-buyers before an alert."
        ),
        "error_policy": {"on_error": "stop", "retries": 1, "retry_delay": "1min"},
        "schedule": {"frequency": "asap"},
        "variables": [
            {"name": "country", "type": "string", "default": "FR"},
            {"name": "min_size", "type": "integer", "default": 10},
        ],
        "activities": _activities(),
        "transitions": [{"from": f, "port": p, "to": t} for f, p, t in TRANSITIONS],
    }


@transaction.atomic
def ensure_example(*, user=None):
    """The example campaign (created as a draft with its group and audience when missing)."""
    from audiences.models import SavedAudience
    from audiences.services.audiences import create_rule_audience
    from campaigns import services
    from campaigns.models import Campaign

    existing = Campaign.objects.filter(name=NAME).first()
    if existing is not None:
        return existing
    Group.objects.get_or_create(name=GROUP)
    if not SavedAudience.objects.filter(name=AUDIENCE).exists():
        create_rule_audience(
            name=AUDIENCE,
            schema="customer",
            where=AUDIENCE_WHERE,
            description="Customers with an active subscription (demo).",
            user=user,
        )
    from config.access import SYSTEM

    return services.create_from_definition(document=definition(), user=user or SYSTEM)


def on_demo_seeded(sender, **kwargs):
    """Receiver of ``audiences.demo.demo_seeded``: this example and the targeting showcase."""
    from campaigns import demo_targeting

    ensure_example()
    demo_targeting.ensure_showcase(profiles=kwargs.get("profiles") or 1000)
