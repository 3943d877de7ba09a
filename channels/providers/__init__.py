"""Channel providers, loaded lazily by dotted path from ``settings.CHANNEL_PROVIDERS`` (design 9),
as DRF loads its plugins. The contract is ``channels.providers.base``.

- ``get(channel) -> Provider``: a new provider for one chunk (``ImproperlyConfigured`` when the
  channel has none: the message says which variable to set);
- ``configured(channel) -> bool``; ``hourly_limit(channel) -> int | None``.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

_classes: dict = {}


def entry(channel: str) -> dict:
    return dict((getattr(settings, "CHANNEL_PROVIDERS", {}) or {}).get(channel) or {})


def configured(channel: str) -> bool:
    return bool(entry(channel).get("BACKEND"))


def provider_class(channel: str):
    path = entry(channel).get("BACKEND")
    if not path:
        raise ImproperlyConfigured(
            f"no {channel} provider is configured: set {channel.upper()}_PROVIDER "
            f"(or {channel.upper()}_PROVIDER_URL)"
        )
    if path not in _classes:
        _classes[path] = import_string(path)
    return _classes[path]


def get(channel: str):
    options = entry(channel)
    options.pop("BACKEND", None)
    return provider_class(channel)(channel=channel, **options)


def hourly_limit(channel: str) -> int | None:
    limit = entry(channel).get("HOURLY_LIMIT")
    return int(limit) if limit else None
