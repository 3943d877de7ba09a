"""``fork``: every transition leaving ``out`` carries the inbound population unchanged."""

from campaigns.activities.base import ActivityKind


class Fork(ActivityKind):
    type = "fork"
    label = "Fork"
    help_text = "Sends the same population down every outgoing transition."

    def run(self, ctx):
        return {"out": ctx.input}
