"""Swagger UI (``/api/docs/``) and Redoc (``/api/redoc/``) in a real Chromium, with no internet:
every request the pages make goes to the project's own server (drf-spectacular-sidecar's files,
the schema); the operations are on the page."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
LOCAL_SCHEMES = ("data:", "blob:", "about:")


@pytest.fixture(autouse=True)
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)


def log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page).to_have_title(re.compile("Campaign back-office"))


def record_requests(page):
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def hosts(urls):
    return {urlparse(url).netloc for url in urls if not url.startswith(LOCAL_SCHEMES)}


def test_swagger_ui_shows_the_operations_without_leaving_the_machine(
    live_server, page, admin_user_password
):
    log_in(page, live_server, *admin_user_password)
    seen = record_requests(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Orchestrated campaigns API")
    operation = page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/campaigns/$"))
    expect(operation.first).to_be_visible()
    assert page.locator(".opblock").count() >= 40
    page.locator(
        ".opblock-summary", has=page.locator("[data-path='/api/audiences/count/']")
    ).click()
    body = page.locator(".opblock-body").first
    expect(body).to_contain_text('"where"')  # the request body's component, not "any object"
    expect(body).to_contain_text("Malformed input: the errors with their paths.")
    page.screenshot(path=str(ARTIFACTS / "api-docs-1280.png"), full_page=False)
    page.wait_for_load_state("networkidle")
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in seen), seen
    assert any("/api/schema/" in url for url in seen), seen
    assert hosts(seen) == {urlparse(live_server.url).netloc}, sorted(seen)


def test_redoc_shows_the_operations_without_leaving_the_machine(
    live_server, page, admin_user_password
):
    log_in(page, live_server, *admin_user_password)
    seen = record_requests(page)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.locator("h1").first).to_contain_text("Orchestrated campaigns API")
    expect(page.get_by_text("/api/campaigns/{id}/publish/").first).to_be_attached()
    page.screenshot(path=str(ARTIFACTS / "api-redoc-1920.png"), full_page=False)
    page.wait_for_load_state("networkidle")
    assert any("/static/drf_spectacular_sidecar/redoc/" in url for url in seen), seen
    assert hosts(seen) == {urlparse(live_server.url).netloc}, sorted(seen)
