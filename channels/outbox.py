"""``EMAIL_BACKEND = "channels.outbox.EmailBackend"``: Django's mail into the Outbox (local mode)."""

from channels.providers.outbox import EmailBackend  # noqa: F401
