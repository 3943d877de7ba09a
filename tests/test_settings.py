"""Settings from the environment: production refuses to start without what it needs, with an error
naming the variable; its defaults are safe; local mode fills in a development setup.

Each case loads the settings in a fresh interpreter with a clean environment (the test process itself
runs in local mode).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "campaigns.example.com",
    "SITE_URL": "https://campaigns.example.com",
    "DATABASE_URL": "postgresql://app:secret@db.example.com:5433/campaigns?sslmode=require",
    "REDIS_URL": "redis://cache.example.com:6379/2",
    "EMAIL_HOST": "smtp.example.com",
}
SHOW = """
import json
from django.conf import settings
names = ["DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
         "SECURE_HSTS_SECONDS", "SITE_URL", "ALLOWED_HOSTS", "EMAIL_BACKEND", "SECRET_KEY",
         "REDIS_URL", "CHANNEL_PROVIDERS"]
values = {name: getattr(settings, name) for name in names}
values["DATABASE"] = {k: settings.DATABASES["default"][k] for k in ("NAME", "USER", "HOST", "PORT")}
values["DATABASE_OPTIONS"] = settings.DATABASES["default"]["OPTIONS"]
values["EMAIL_FILE_PATH"] = getattr(settings, "EMAIL_FILE_PATH", None)
print(json.dumps(values))
"""


def load_settings(env):
    """Import the settings in a fresh interpreter with only ``env``; ``(returncode, out, err)``."""
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_production_refuses_a_missing_setting_and_names_it(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    code, _, err = load_settings(env)
    assert code != 0
    assert "ImproperlyConfigured" in err
    assert f"The environment variable {missing} is required in production" in err


def test_production_defaults_are_safe():
    code, out, err = load_settings(PRODUCTION)
    assert code == 0, err
    values = json.loads(out)
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["DATABASE"] == {
        "NAME": "campaigns",
        "USER": "app",
        "HOST": "db.example.com",
        "PORT": "5433",
    }
    assert values["DATABASE_OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("PORT", "eighty", "PORT must be an integer"),
        ("DATABASE_URL", "mysql://db/campaigns", "DATABASE_URL must be a postgresql:// URL"),
    ],
)
def test_malformed_values_are_refused_with_their_name(name, value, message):
    code, _, err = load_settings({**PRODUCTION, name: value})
    assert code != 0
    assert message in err


def test_local_mode_keeps_one_secret_key_beside_the_data_and_keeps_mail_in_the_outbox(tmp_path):
    env = {
        "LOCAL_MODE": "1",
        "DEV_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PORT": "8123",
    }
    code, out, err = load_settings(env)
    assert code == 0, err
    first = json.loads(out)
    assert first["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert len(first["SECRET_KEY"]) >= 50
    assert json.loads(load_settings(env)[1])["SECRET_KEY"] == first["SECRET_KEY"]
    assert first["SITE_URL"] == "http://127.0.0.1:8123"
    assert first["SECURE_SSL_REDIRECT"] is False
    assert first["SESSION_COOKIE_SECURE"] is False
    assert first["EMAIL_BACKEND"] == "channels.outbox.EmailBackend"
    assert first["EMAIL_FILE_PATH"] is None
    backends = {c: p["BACKEND"] for c, p in first["CHANNEL_PROVIDERS"].items()}
    assert backends == dict.fromkeys(
        ("email", "sms", "push"), "channels.providers.outbox.OutboxProvider"
    )


def test_channel_providers_come_from_the_environment():
    env = {
        **PRODUCTION,
        "EMAIL_HOURLY_LIMIT": "50000",
        "SMS_PROVIDER": "form",
        "SMS_PROVIDER_URL": "https://api.example.com/Messages.json",
        "SMS_PROVIDER_BASIC_AUTH": "AC1:token",
        "SMS_FROM": "+15550100",
    }
    code, out, err = load_settings(env)
    assert code == 0, err
    providers = json.loads(out)["CHANNEL_PROVIDERS"]
    assert providers["email"]["BACKEND"] == "channels.providers.smtp.SMTPProvider"
    assert providers["email"]["HOURLY_LIMIT"] == 50000
    assert providers["sms"]["BACKEND"] == "channels.providers.http.FormProvider"
    assert (providers["sms"]["URL"], providers["sms"]["FROM"]) == (
        env["SMS_PROVIDER_URL"],
        "+15550100",
    )
    assert providers["push"]["BACKEND"] is None  # production: nothing configured, nothing sent
    code, _, err = load_settings({**PRODUCTION, "EMAIL_HOURLY_LIMIT": "lots"})
    assert code != 0 and "EMAIL_HOURLY_LIMIT must be an integer" in err


def test_local_mode_still_needs_the_servers():
    code, _, err = load_settings({"LOCAL_MODE": "1", "DEV_DATA_DIR": "/tmp"})
    assert code != 0
    assert "DATABASE_URL is required" in err
