"""``fork``: every transition leaving ``out`` carries the inbound population unchanged."""

from campaigns.activities.base import ActivityKind
from campaigns.activities.registry import register


@register
class Fork(ActivityKind):
    type = "fork"
    label = "Fork"
    help_text = "Sends the same population down every outgoing transition."
    defaults = {}

    def run(self, ctx):
        return {"out": ctx.input}
