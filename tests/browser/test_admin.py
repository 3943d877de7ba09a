"""The admin in a real Chromium: log in through the form, land on the product's own index."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_log_in_and_see_the_products_admin_index(live_server, page, admin_user_password):
    username, password = admin_user_password
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.locator("#site-name")).to_have_text("Orchestrated campaigns")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page).to_have_title("Campaign back-office | Orchestrated campaigns")
    expect(page.locator("#product-intro h2")).to_have_text("Orchestrated campaigns")
    expect(page.locator("#user-tools")).to_contain_text("admin")
