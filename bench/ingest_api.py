"""The API leg of bench/ingest.py: a CSV file POSTed to a real gunicorn, imported by a real
rqworker, timed from the start of the POST to ``succeeded`` (polled every 50 ms), beside
``manage.py import_records`` of the same file (both first loads into ``bench_customer``, the
command's whole process), alternated three times, medians compared."""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _multipart(path):
    """(body file, content type): the multipart form with ``file``, written once beforehand."""
    boundary = uuid.uuid4().hex
    body = Path(str(path) + ".multipart")
    with open(body, "wb") as out, open(path, "rb") as source:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
        )
        while chunk := source.read(1 << 20):
            out.write(chunk)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


def _post(port, token, body, content_type):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": content_type,
        "Content-Length": str(os.path.getsize(body)),
        "Host": "127.0.0.1",
    }
    with open(body, "rb") as stream:
        conn.request("POST", "/api/schemas/bench_customer/imports/", stream, headers)
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 202:
        raise SystemExit(f"upload refused: {response.status} {answer}")
    return conn, answer["id"]


def _wait(conn, token, import_id):
    while True:
        conn.request(
            "GET",
            f"/api/schemas/bench_customer/imports/{import_id}/",
            headers={"Authorization": f"Token {token}", "Host": "127.0.0.1"},
        )
        body = json.loads(conn.getresponse().read())
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05)


def _breakdown(import_id, uploaded, api):
    from audiences.models import RecordImport

    done = RecordImport.objects.get(pk=import_id)
    queued = (done.started_at - done.created_at).total_seconds()
    running = (done.finished_at - done.started_at).total_seconds()
    print(
        f"API breakdown: POST to 202 (upload, parse, store in PostgreSQL) {uploaded:.2f} s; "
        f"created to claimed (commit, enqueue, dequeue, fork) {queued:.2f} s; claimed to "
        f"finished (import) {running:.2f} s; the rest (202 before commit, polling) "
        f"{api - uploaded - running - queued:.2f} s"
    )


def api_vs_command(path, rows, truncate, ours, repeat=3):
    """(command process seconds, API seconds), medians of ``repeat`` runs of each, alternated,
    on the file ``path``."""
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True})
    user.is_staff = user.is_superuser = True
    user.save()
    token = Token.objects.get_or_create(user=user)[0].key
    body, content_type = _multipart(path)
    port = _free_port()
    env = {**os.environ, "LOCAL_MODE": "1", "PORT": str(port)}
    queue = f"{os.environ.get('RQ_QUEUE_PREFIX', '')}imports"
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "600",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", queue],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    commands, apis = [], []
    try:
        time.sleep(5)  # both up before the clock starts
        for _ in range(repeat):
            truncate()
            commands.append(ours("bench_customer", path)[2])
            truncate()
            started = time.monotonic()
            conn, import_id = _post(port, token, body, content_type)
            uploaded = time.monotonic() - started
            result = _wait(conn, token, import_id)
            apis.append(time.monotonic() - started)
            _breakdown(import_id, uploaded, apis[-1])
            if result["status"] != "succeeded" or result["written"] != rows:
                raise SystemExit(f"API import did not succeed: {result}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    print(f"command runs {[round(c, 2) for c in commands]}, API runs {[round(a, 2) for a in apis]}")
    return statistics.median(commands), statistics.median(apis)
