"""``/healthz``: is this installation able to work? Public, JSON, no authentication.

``{"database": {"ok": bool, "elapsed_ms": n} or {"ok": false, "error": "..."},
"redis": {"ok": bool, ...}, "workers": n}``: 200 when PostgreSQL and Redis both answer, else 503.
``workers`` counts the live RQ workers listening on this installation's queues (``RQ_QUEUES``,
so other installations sharing the Redis server are not counted); it is null when Redis is down.
Redis is asked with one-second timeouts, so a dead server never holds the probe for long.
Failures give only the exception's class in ``error`` (the endpoint is public); the full message
goes to the ``config.health`` logger.

``HealthCheckMiddleware``, first in ``MIDDLEWARE``, answers ``/healthz`` before anything else runs:
no HTTPS redirect and no ``ALLOWED_HOSTS`` check (load balancers probe by IP address over plain
HTTP), and no other middleware touching the database first, so a database outage is a 503 in JSON,
not a 500. The URL pattern stays for ``reverse("healthz")`` and for setups without the middleware.
"""

import logging
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Worker

REDIS_TIMEOUT_SECONDS = 1.0
PATH = "/healthz"
logger = logging.getLogger("config.health")


def _failure(what, exc):
    logger.warning("Health check: %s unreachable: %s", what, exc)
    return {"ok": False, "error": type(exc).__name__}


def _elapsed_ms(started):
    return round((time.monotonic() - started) * 1000, 1)


def check_database():
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not reachable", reported as such
        return _failure("database", exc)
    return {"ok": True, "elapsed_ms": _elapsed_ms(started)}


def check_redis():
    """``({"ok", ...}, live worker count or None)``."""
    started = time.monotonic()
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
        queues = set(settings.RQ_QUEUES)
        workers = sum(
            1 for w in Worker.all(connection=client) if queues.intersection(w.queue_names())
        )
    except (redis.RedisError, OSError) as exc:
        return _failure("redis", exc), None
    finally:
        client.close()
    return {"ok": True, "elapsed_ms": _elapsed_ms(started)}, workers


@never_cache
@require_safe
def healthz(request):
    database = check_database()
    redis_status, workers = check_redis()
    ok = database["ok"] and redis_status["ok"]
    return JsonResponse(
        {"database": database, "redis": redis_status, "workers": workers},
        status=200 if ok else 503,
    )


class HealthCheckMiddleware:
    """Answers ``GET``/``HEAD /healthz`` before any other middleware (module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == PATH:
            return healthz(request)
        return self.get_response(request)


urlpatterns = [path(PATH.lstrip("/"), healthz, name="healthz")]
