"""The browser harness: pytest-playwright driving Debian's Chromium against pytest-django's
``live_server``.

- Chromium is ``/usr/bin/chromium``; when it is missing, the first browser test installs it with
  ``apt-get`` (as root). Never ``playwright install``, which downloads a browser of its own.
- Playwright's sync API runs an event loop in the test thread, so Django's ORM, used by the test
  itself, needs ``DJANGO_ALLOW_ASYNC_UNSAFE``.
- Every failing test leaves a screenshot of each open page in ``test-artifacts/`` (git-ignored).
- Use ``live_server`` (it implies a transactional database: the server thread must see the data
  the test commits) and mark tests ``@pytest.mark.browser``.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium():
    """Install Debian's ``chromium`` with apt-get when it is not there (needs root)."""
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"{CHROMIUM} is missing; install it with `apt-get install -y chromium` as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed:\n{result.stdout[-2000:]}{result.stderr}")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    ensure_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def admin_user_password(django_user_model):
    """A staff superuser ``admin`` / ``correct horse`` for logging in through the form."""
    django_user_model.objects.create_superuser("admin", "admin@example.org", "correct horse")
    return "admin", "correct horse"


@pytest.fixture
def shop(transactional_db):
    """The demo-like shop of ``tests.browser.shop`` (schemas and records, committed); its tables
    are dropped before and after."""
    from tests.audiences.test_records_support import drop_data_tables
    from tests.browser import shop as demo_shop

    drop_data_tables()
    demo_shop.load()
    yield demo_shop
    drop_data_tables()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when in ("setup", "call"):
        for line in _save_screenshots(item):
            report.sections.append(("screenshot", line))
    return report


def _save_screenshots(item):
    """Screenshot every Playwright page the test used; one line per page saying where."""
    pages = [v for v in getattr(item, "funcargs", {}).values() if type(v).__name__ == "Page"]
    if not pages:
        return []
    lines = []
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
    for index, page in enumerate(pages):
        path = ARTIFACTS / f"{stem}{f'-{index}' if index else ''}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            lines.append(f"could not save {path}: {exc}")
        else:
            lines.append(f"saved {path}")
    return lines
