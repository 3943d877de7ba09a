"""``push``: a personalized push notification to every recipient's device token (design 5.4,
5.5, 10): ``title``, ``body``, ``data`` (an object whose string values are templates) and
``deep_link``. ``out`` carries the recipients it was sent to. The flow (stage, confirm, send,
wait) is ``campaigns.activities.channel``."""

from campaigns.activities import options as o
from campaigns.activities.channel import ChannelKind, common_options, template_context
from channels import personalize


class Push(ChannelKind):
    type = "push"
    label = "Push"
    channel = "push"
    help_text = "Sends a personalized push notification to every recipient's device."
    MESSAGE = ("title", "body", "data", "deep_link")
    options = o.options(
        title=o.string(description="The title (a template).", widget="template", min_length=1),
        body=o.string(description="The text (a template).", widget="template", min_length=1),
        data={
            "type": "object",
            "default": {},
            "description": "Data for the app: an object whose string values are templates.",
            "additionalProperties": True,
            "x-widget": "json",
        },
        deep_link=o.string("", "A link the app opens (a template).", widget="template"),
        **common_options(),
    )

    def validate(self, options, check):
        found = super().validate(options, check)
        return found + personalize.check_json(
            options.get("data") or {}, path=check.at("data"), **template_context(check)
        )
