"""A real gunicorn on 127.0.0.1 serving the project against the pytest database, for tests that
drive the API from outside (schemathesis). Tests using it must be transactional
(``transactional_db``): the server's processes see only committed data.

``Gunicorn(tmp_path)`` starts on a free port; ``url``; ``stop()`` ends its process group and
returns its log (the workers' tracebacks, if any, are in it).
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.devstack.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Gunicorn:
    def __init__(self, folder: Path, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "gunicorn.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "RQ_QUEUE_PREFIX": settings.RQ_QUEUE_PREFIX,
            "LOCAL_MODE": "1",
            "DEV_DATA_DIR": str(settings.DEV_DATA_DIR),
            "MEDIA_ROOT": str(folder / "media"),
            "PORT": str(self.port),
            "DATABASE_CONN_MAX_AGE": "0",
            "LOG_LEVEL": "ERROR",
        }
        command = [
            *(sys.executable, "-m", "gunicorn", "config.wsgi"),
            *("--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)),
            *("--timeout", "60", "--no-control-socket"),
        ]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_answering()

    def _wait_until_answering(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.stop()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers (503: Redis or PostgreSQL down, which tests will show)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.stop()}")

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()
        return self.log_path.read_text(errors="replace")
