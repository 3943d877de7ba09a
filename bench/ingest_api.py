"""The API leg of bench/ingest.py: a CSV file POSTed to a real gunicorn, imported by a real
rqworker, timed from the start of the POST to ``succeeded`` (polled every 50 ms, after 2 s every 250 ms), beside
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
    """Poll until the import ends: every 50 ms for 2 s, then every 250 ms (each poll is a
    request the web process serves on the same two cores as the import)."""
    started = time.monotonic()
    while True:
        conn.request(
            "GET",
            f"/api/schemas/bench_customer/imports/{import_id}/",
            headers={"Authorization": f"Token {token}", "Host": "127.0.0.1"},
        )
        body = json.loads(conn.getresponse().read())
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05 if time.monotonic() - started < 2 else 0.25)


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
    """{"first load": (command s, API s), "upsert": (command s, API s)}: medians of ``repeat``
    runs of each, alternated, on the file ``path``; first loads into the emptied table, then
    upserts of the same file into the table it filled."""
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
    results = {}
    try:
        time.sleep(5)  # both up before the clock starts
        for kind, empty in (("first load", True), ("upsert", False)):
            commands, apis = [], []
            for _ in range(repeat):
                if empty:
                    truncate()
                commands.append(ours("bench_customer", path)[2])
                if empty:
                    truncate()
                apis.append(_api_run(port, token, body, content_type, rows))
            print(f"{kind}: command runs {_rounded(commands)}, API runs {_rounded(apis)}")
            results[kind] = statistics.median(commands), statistics.median(apis)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    return results


def _rounded(values):
    return [round(v, 2) for v in values]


def _api_run(port, token, body, content_type, rows):
    started = time.monotonic()
    conn, import_id = _post(port, token, body, content_type)
    uploaded = time.monotonic() - started
    result = _wait(conn, token, import_id)
    seconds = time.monotonic() - started
    _breakdown(import_id, uploaded, seconds)
    if result["status"] != "succeeded" or result["written"] != rows:
        raise SystemExit(f"API import did not succeed: {result}")
    return seconds
