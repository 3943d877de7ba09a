"""``CHANNEL_PROVIDERS`` from the environment (design 9), read by ``config.settings``.

Pure functions of the environment (no Django import): settings call them while loading. Each
channel gets ``{"BACKEND": dotted path, ...options}``; a backend may be named by an alias
(``smtp``, ``outbox``, ``http``, ``form``, ``anymail``) or by any dotted path to a subclass of
``channels.providers.base.Provider``. Every variable is listed in README ("Sending").

- email: ``EMAIL_PROVIDER`` (default ``smtp`` when ``EMAIL_HOST`` is set, else ``outbox`` in local
  mode), ``EMAIL_HOURLY_LIMIT``, ``EMAIL_ESP_BACKEND`` (for ``anymail``: the anymail backend path);
  SMTP itself uses Django's ``EMAIL_*`` settings.
- sms and push (``C`` = ``SMS`` or ``PUSH``): ``C_PROVIDER`` (default ``http`` when
  ``C_PROVIDER_URL`` is set, else ``outbox`` in local mode, else none: sending on that channel
  fails with a clear error), ``C_PROVIDER_URL``, ``C_PROVIDER_AUTH_HEADER`` (``Name: value``),
  ``C_PROVIDER_BASIC_AUTH`` (``user:password``), ``C_PROVIDER_PAYLOAD`` (a Jinja template of the
  request body), ``C_PROVIDER_ID_FIELD`` (the response's field holding the provider's id),
  ``C_PROVIDER_TIMEOUT`` (seconds), ``C_FROM`` (the sender), ``C_HOURLY_LIMIT``.
"""

ALIASES = {
    "smtp": "channels.providers.smtp.SMTPProvider",
    "outbox": "channels.providers.outbox.OutboxProvider",
    "http": "channels.providers.http.HTTPProvider",
    "form": "channels.providers.http.FormProvider",
    "anymail": "channels.providers.anymail.AnymailProvider",
}
CHANNELS = ("email", "sms", "push")


def backend_path(name):
    """The dotted path of a backend alias (or the path itself)."""
    return ALIASES.get(name, name) if name else None


def _int(env, name):
    value = env(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def _email(env, local, email_host):
    default = "smtp" if email_host or not local else "outbox"
    return {
        "BACKEND": backend_path(env("EMAIL_PROVIDER", default)),
        "HOURLY_LIMIT": _int(env, "EMAIL_HOURLY_LIMIT"),
        "ESP_BACKEND": env("EMAIL_ESP_BACKEND"),
    }


def _http(env, channel, local):
    prefix = channel.upper()
    url = env(f"{prefix}_PROVIDER_URL")
    default = "http" if url else ("outbox" if local else None)
    return {
        "BACKEND": backend_path(env(f"{prefix}_PROVIDER", default)),
        "URL": url,
        "AUTH_HEADER": env(f"{prefix}_PROVIDER_AUTH_HEADER"),
        "BASIC_AUTH": env(f"{prefix}_PROVIDER_BASIC_AUTH"),
        "PAYLOAD": env(f"{prefix}_PROVIDER_PAYLOAD"),
        "ID_FIELD": env(f"{prefix}_PROVIDER_ID_FIELD"),
        "TIMEOUT": float(env(f"{prefix}_PROVIDER_TIMEOUT", "10")),
        "FROM": env(f"{prefix}_FROM", ""),
        "HOURLY_LIMIT": _int(env, f"{prefix}_HOURLY_LIMIT"),
    }


def providers_from_environment(env, *, local, email_host):
    """``{"email": {...}, "sms": {...}, "push": {...}}`` (module docstring)."""
    return {
        "email": _email(env, local, email_host),
        "sms": _http(env, "sms", local),
        "push": _http(env, "push", local),
    }
