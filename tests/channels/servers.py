"""Real servers on loopback for the channel tests, failing on demand.

``SMTPSink``: aiosmtpd in a thread of the test process. It keeps every accepted message
(recipient, Message-ID, subject, body, time) and answers by its ``policy``: a function of
``(recipient, attempt)`` returning None (accept) or ``(code, text)`` (refuse with that SMTP
code), or the string ``"hang"`` (never answer the final DATA reply: the client times out after
the message went out).

``HTTPSink``: a threading HTTP/1.1 server (keep-alive) keeping every request body and answering
by its ``policy``: a function of ``(body dict, attempt)`` returning ``(status, json answer)``,
``("sleep", seconds)`` before a 200, or ``"hang"``.
"""

import json
import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        verdict = self.sink.verdict(address)
        if isinstance(verdict, tuple) and self.sink.at_rcpt:
            return f"{verdict[0]} {verdict[1]}"
        envelope.rcpt_tos.append(address)
        envelope.verdict = verdict
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        verdict = getattr(envelope, "verdict", None)
        if verdict == "hang":
            await asyncio.sleep(self.sink.hang_seconds)
            return "451 too late"
        if isinstance(verdict, tuple):
            return f"{verdict[0]} {verdict[1]}"
        parsed = message_from_bytes(envelope.content)
        with self.sink.lock:
            for address in envelope.rcpt_tos:
                self.sink.messages.append(
                    {
                        "to": address,
                        "message_id": parsed["Message-ID"],
                        "subject": parsed["Subject"],
                        "proof": parsed["X-Campaign-Proof"],
                        "from": parsed["From"],
                        "at": time.time(),
                        "raw": envelope.content,
                    }
                )
        return "250 Message accepted"


class SMTPSink:
    def __init__(self):
        self.messages = []
        self.attempts = {}
        self.lock = threading.Lock()
        self.policy = lambda address, attempt: None
        self.at_rcpt = True
        self.hang_seconds = 30
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def verdict(self, address):
        with self.lock:
            attempt = self.attempts[address] = self.attempts.get(address, 0) + 1
        return self.policy(address, attempt)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def count_by_address(self):
        found = {}
        for m in list(self.messages):
            found[m["to"]] = found.get(m["to"], 0) + 1
        return found


class HTTPSink:
    def __init__(self):
        self.requests = []
        self.attempts = {}
        self.lock = threading.Lock()
        self.policy = lambda body, attempt: (200, {"id": f"p{len(self.requests)}"})
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return None

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or b"{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                key = body.get("to") or body.get("To")
                with sink.lock:
                    attempt = sink.attempts[key] = sink.attempts.get(key, 0) + 1
                answer = sink.policy(body, attempt)
                if answer == "hang":
                    time.sleep(sink.hang_seconds)
                    return
                if answer[0] == "sleep":
                    time.sleep(answer[1])
                    answer = (200, {"id": f"slow{attempt}"})
                status, payload = answer
                if 200 <= status < 300:
                    with sink.lock:
                        sink.requests.append(
                            {"body": body, "headers": dict(self.headers), "at": time.time()}
                        )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.hang_seconds = 10
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/send"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
