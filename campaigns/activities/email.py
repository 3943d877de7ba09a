"""``email``: a personalized email to every recipient of the inbound population (design 5.4,
5.5, 10): ``subject``, ``html`` (its CSS inlined), ``text`` (generated from the HTML when empty),
``from_email`` (default ``DEFAULT_FROM_EMAIL``), ``reply_to``. ``out`` carries the recipients it
was sent to. The flow (stage, confirm, send, wait) is ``campaigns.activities.channel``."""

from campaigns.activities import options as o
from campaigns.activities.channel import ChannelKind, common_options


class Email(ChannelKind):
    type = "email"
    label = "Email"
    channel = "email"
    help_text = "Sends a personalized email to every recipient (send confirmation first)."
    MESSAGE = ("subject", "html", "text", "from_email", "reply_to")
    options = o.options(
        subject=o.string(
            description="The subject line (a template: {{ profile.first_name }}).",
            widget="template",
            min_length=1,
        ),
        html=o.string(
            description="The HTML body (a template; HTML-escaped values).",
            widget="template",
            min_length=1,
        ),
        text=o.string(
            "",
            "The plain-text body (a template); empty: generated from the HTML.",
            widget="template",
        ),
        from_email=o.string("", "The sender address; empty: the DEFAULT_FROM_EMAIL setting."),
        reply_to=o.string("", "An optional Reply-To address."),
        **common_options(),
    )
