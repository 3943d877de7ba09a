"""Settings, all from the environment (README, "Configuration").

Two modes:
- production (the default): every setting that has no safe default must be given, or start-up stops
  with an ImproperlyConfigured error naming it;
- local (``LOCAL_MODE=1``, set by ``make run`` and ``make test``, and implied under pytest): plain HTTP
  on 127.0.0.1, a secret key generated once and kept in the dev data folder, mail written to files.
"""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default):
    value = env(name)
    try:
        return default if value is None else int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


TESTING = "PYTEST_VERSION" in os.environ
LOCAL_MODE = env_bool("LOCAL_MODE", default=TESTING)
DEV_DATA_DIR = Path(env("DEV_DATA_DIR", str(BASE_DIR / ".devdata")))


def required(name, local_default=None):
    """A setting that production must give; local mode falls back to ``local_default``."""
    value = env(name)
    if value is not None:
        return value
    if LOCAL_MODE and local_default is not None:
        return local_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is required in production "
        "(set LOCAL_MODE=1, or use `make run`, for a local development server)."
    )


def local_secret_key():
    """A key generated once per dev data folder and kept there."""
    path = DEV_DATA_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def database_from_url(url):
    """``postgresql://user:password@host:port/name?options`` to a Django DATABASES entry."""
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgresql:// URL, not {url!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": query,
        "TEST": {"NAME": env("TEST_DATABASE_NAME")},
    }


SECRET_KEY = env("SECRET_KEY") or (local_secret_key() if LOCAL_MODE else required("SECRET_KEY"))
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = [h.strip() for h in required("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
PORT = env_int("PORT", 8000)
SITE_URL = required("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

DATABASES = {"default": database_from_url(required("DATABASE_URL"))}
REDIS_URL = required("REDIS_URL")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "config.apps.CampaignsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "polymorphic",
    "audiences",
    "channels",
    "campaigns",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",  # /healthz first: no redirect, host check or DB
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.UserTimeZoneMiddleware",  # dates in the admin in the user's time zone
    "config.audit_signals.AuditRequestMiddleware",  # who changed roles and permissions
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audiences.middleware.SchemaGenerationMiddleware",
    "config.middleware.UnsafeInputMiddleware",
    "config.middleware.DomainErrorsMiddleware",
]

if TESTING:
    # Hashing each test user's password with PBKDF2 costs seconds per test module.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]  # the favicon
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / ".devdata" / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Uploaded files (CSV imports): where every host reads them; PostgreSQL by default.
    "uploads": {"BACKEND": env("UPLOADS_STORAGE", "audiences.storage.DatabaseStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DEV_DATA_DIR / "media")))
FILE_UPLOAD_HANDLERS = [
    "audiences.upload_handlers.MemoryHandler",
    "audiences.upload_handlers.TemporaryFileHandler",
]

# Mail: Django's own variable names. Local mode without EMAIL_HOST keeps every message (staff
# alerts and campaign messages) in the Outbox, readable in the admin: nothing leaves the machine.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "campaigns@localhost")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif LOCAL_MODE:
    EMAIL_BACKEND = "channels.outbox.EmailBackend"
else:
    EMAIL_HOST = required("EMAIL_HOST")

# Channel providers (design 9): one backend per channel by dotted path, loaded lazily
# (channels.providers). Built from the environment by channels.config (README, "Sending").
from channels.config import providers_from_environment  # noqa: E402

CHANNEL_PROVIDERS = providers_from_environment(env, local=LOCAL_MODE, email_host=EMAIL_HOST)
# django-anymail's settings (EMAIL_PROVIDER=anymail): a JSON object, e.g. {"POSTMARK_SERVER_TOKEN": "..."}
ANYMAIL = json.loads(env("ANYMAIL_SETTINGS", "{}"))

# Security: production defaults are safe; local mode is plain HTTP on 127.0.0.1.
SECURE_SSL_REDIRECT = not LOCAL_MODE and env_bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = not LOCAL_MODE
CSRF_COOKIE_SECURE = not LOCAL_MODE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if LOCAL_MODE else env_int("SECURE_HSTS_SECONDS", 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_TRUSTED_ORIGINS = [SITE_URL]
X_FRAME_OPTIONS = "SAMEORIGIN"

# Jobs: Redis carries wake-up calls only (design 3). The prefix lets parallel test processes and
# several installations share one Redis.
RQ_QUEUE_PREFIX = env("RQ_QUEUE_PREFIX", "")
# ``engine`` and ``engine_long`` are served by ``manage.py campaigns_worker`` (non-forking,
# campaigns.engine.scheduling), the others by ``manage.py rqworker`` (forking, config.workers).
RQ_QUEUES = {
    f"{RQ_QUEUE_PREFIX}{name}": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": timeout}
    for name, timeout in (
        ("default", 3600),
        ("engine", 6 * 3600),
        ("engine_long", 6 * 3600),
        ("imports", 6 * 3600),
        ("sending", 6 * 3600),
    )
}
ENGINE_QUEUES = [f"{RQ_QUEUE_PREFIX}engine", f"{RQ_QUEUE_PREFIX}engine_long"]
RQ = {"WORKER_CLASS": "config.workers.Worker"}
RQ_SHOW_ADMIN_LINK = False  # the index links to config.queues_dashboard instead

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.StaffModelPermissions"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.JSONParser",
        "config.api.parsers.FormParser",
        "config.api.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "config.api.metadata.Metadata",
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.api.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orchestrated campaigns API",
    "DESCRIPTION": "Schemas, records, audiences, campaigns, runs and deliveries.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["config.api.permissions.StaffModelPermissions"],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.openapi.add_components",
    ],
    # Swagger UI and Redoc from the drf-spectacular-sidecar package, served by the project:
    # the docs work with no internet (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Product settings (each documented in README).
DDL_LOCK_TIMEOUT = env("DDL_LOCK_TIMEOUT", "5s")
COUNT_STATEMENT_TIMEOUT_MS = env_int("COUNT_STATEMENT_TIMEOUT_MS", 25000)
POPULATION_RETENTION_DAYS = env_int("POPULATION_RETENTION_DAYS", 7)
RECONCILE_AFTER_SECONDS = env_int("RECONCILE_AFTER_SECONDS", 60)
UPLOAD_RETENTION_DAYS = env_int("UPLOAD_RETENTION_DAYS", 7)
IMPORT_MAINTENANCE_WORK_MEM = env("IMPORT_MAINTENANCE_WORK_MEM", "1GB")
IMPORT_WORK_MEM = env("IMPORT_WORK_MEM", "256MB")
TICK_SECONDS = env_int("TICK_SECONDS", 5)
TRIGGER_MIN_INTERVAL_SECONDS = env_int("TRIGGER_MIN_INTERVAL_SECONDS", 60)
# Schedules (design 11): the shortest "every" interval, and how late a missed launch may still run.
SCHEDULE_MIN_INTERVAL = env("SCHEDULE_MIN_INTERVAL", "15min")
SCHEDULE_CATCHUP_LIMIT = env("SCHEDULE_CATCHUP_LIMIT", "24h")
# The forecast (issue 15) reuses a test run of the same definition started at most this long ago.
FORECAST_TEST_RUN_MAX_AGE = env("FORECAST_TEST_RUN_MAX_AGE", "24h")
# Activity kinds (design 9): the built-in modules (empty: the registry's DEFAULT_KINDS), then
# plugin modules; dotted paths, comma-separated.
CAMPAIGN_ACTIVITY_KINDS = [m for m in env("CAMPAIGN_ACTIVITY_KINDS", "").split(",") if m]
CAMPAIGN_ACTIVITY_MODULES = [m for m in env("CAMPAIGN_ACTIVITY_MODULES", "").split(",") if m]
# load_file may read files from this folder (paths relative to it); empty: uploaded files only.
CAMPAIGN_FILES_DIR = env("CAMPAIGN_FILES_DIR", "")

# Sending (design 10; README, "Sending").
SEND_CONFIRMATION_GROUP = env("SEND_CONFIRMATION_GROUP", "Approver")
# The tick reminds a task's approvers once when this fraction of its time (created -> due) is left.
TASK_REMINDER_FRACTION = float(env("TASK_REMINDER_FRACTION", "0.25"))
SEND_CHUNK_SIZE = env_int("SEND_CHUNK_SIZE", 500)
SEND_MARK_BATCH = env_int("SEND_MARK_BATCH", 10)
SEND_LEASE_SECONDS = env_int("SEND_LEASE_SECONDS", 30)
SEND_JOBS = env_int("SEND_JOBS", 4)
SEND_JOB_SECONDS = env_int("SEND_JOB_SECONDS", 600)
SEND_RETRIES = env_int("SEND_RETRIES", 4)
SEND_DURABLE_MARKS = env_bool("SEND_DURABLE_MARKS", default=True)
SEND_RETRY_SECONDS = float(env("SEND_RETRY_SECONDS", "1"))
PROOF_ALLOWED_DOMAINS = [
    d.strip().lower() for d in env("PROOF_ALLOWED_DOMAINS", "").split(",") if d.strip()
]
PROOF_ALLOWED_ADDRESSES = [
    a.strip() for a in env("PROOF_ALLOWED_ADDRESSES", "").split(",") if a.strip()
]
RENDER_MAX_CHARS = env_int("RENDER_MAX_CHARS", 1_000_000)
RENDER_MAX_STEPS = env_int("RENDER_MAX_STEPS", 1_000_000)
RENDER_MAX_SECONDS = float(env("RENDER_MAX_SECONDS", "2"))

# Consent, pressure and tracking (issue 13; README, "Consent, tracking and reports").
# CONSENT_MODEL: per channel, opt_out (marketing allowed unless opted out) or opt_in.
CONSENT_MODEL = {
    channel: env(f"CONSENT_MODEL_{channel.upper()}", "opt_out")
    for channel in ("email", "sms", "push")
}
for _channel, _model in CONSENT_MODEL.items():
    if _model not in ("opt_out", "opt_in"):
        raise ImproperlyConfigured(f"CONSENT_MODEL_{_channel.upper()} must be opt_out or opt_in")
FREQUENCY_CAP_MESSAGES = env_int("FREQUENCY_CAP_MESSAGES", 0)  # 0: no cap
FREQUENCY_CAP_DAYS = env_int("FREQUENCY_CAP_DAYS", 7)
# The one value the code reads (staging's exclusion, the forecast): None when there is no cap.
FREQUENCY_CAP = (
    {"messages": FREQUENCY_CAP_MESSAGES, "days": FREQUENCY_CAP_DAYS}
    if FREQUENCY_CAP_MESSAGES > 0 and FREQUENCY_CAP_DAYS > 0
    else None
)
QUIET_HOURS = env("QUIET_HOURS", "")  # "21:00-08:00": no marketing SMS or push then
if QUIET_HOURS:
    import datetime as _dt

    _quiet = QUIET_HOURS.split("-", 1)
    try:
        if len(_quiet) != 2:
            raise ValueError(QUIET_HOURS)
        [_dt.time.fromisoformat(_t.strip()) for _t in _quiet]
    except ValueError:
        raise ImproperlyConfigured(
            f"QUIET_HOURS must look like 21:00-08:00, not {QUIET_HOURS!r}"
        ) from None
PROFILE_TIMEZONE_ATTRIBUTE = env("PROFILE_TIMEZONE_ATTRIBUTE", "timezone")
WEBHOOK_SECRET = env("WEBHOOK_SECRET", "")  # empty: /hooks/ refuses everything (403)
SOFT_BOUNCE_LIMIT = env_int("SOFT_BOUNCE_LIMIT", 3)
TRACK_OPENS = env_bool("TRACK_OPENS", default=True)
TRACK_CLICKS = env_bool("TRACK_CLICKS", default=True)
