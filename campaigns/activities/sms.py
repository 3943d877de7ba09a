"""``sms``: a personalized text message to every recipient (design 5.4, 5.5, 10); its length and
GSM-7 / UCS-2 segment count are shown when saved. ``out`` carries the recipients it was sent to.
The flow (stage, confirm, send, wait) is ``campaigns.activities.channel``."""

from campaigns.activities import options as o
from campaigns.activities.channel import ChannelKind, common_options, shaping


class Sms(ChannelKind):
    type = "sms"
    label = "SMS"
    channel = "sms"
    help_text = "Sends a personalized SMS to every recipient (send confirmation first)."
    MESSAGE = ("text",)
    options = o.options(
        text=o.string(
            description="The message (a template: {{ profile.first_name }}).",
            widget="template",
            min_length=1,
        ),
        **common_options(),
    )

    def notes(self, options):
        return [shaping.describe_sms(options.get("text") or "")] if options.get("text") else []
