"""The audience builder in a real Chromium: the live count, the preview of the rows and their SQL,
errors at their path, saving a rule audience and changing it through the service."""

import json

import pytest
from playwright.sync_api import expect

from audiences.models import SavedAudience
from tests.audiences import rule_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, credentials):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/audiences/savedaudience/add/")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.click("input[type=submit]")


def type_rule(page, rule):
    page.get_by_role("button", name="JSON").click()
    page.locator("#id_where").fill(json.dumps(rule))
    page.get_by_role("button", name="Builder").click()


def test_count_preview_sql_and_save(live_server, page, admin_user_password):
    schemas = rule_data.load()
    log_in(page, live_server, admin_user_password)
    page.fill("#id_name", "paris_fans")
    page.select_option("#id_schema", str(schemas["customer"].pk))
    count = page.locator(".rb-count .rb-count-value")
    expect(count).to_be_visible()  # the empty rule counts every record
    type_rule(page, {"field": "store.city", "op": "eq", "value": "Paris"})
    expect(count).to_have_attribute("data-count", "2")
    expect(page.locator(".rb-count")).to_contain_text(" ms")
    expect(page.locator(".rb-cmp .rb-field")).to_have_text("store › city")

    page.locator(".rb-preview > summary").click()
    expect(page.locator(".rb-rows table tbody tr")).to_have_count(2)
    expect(page.locator(".rb-rows")).to_contain_text("c5")
    page.locator(".rb-sql-box summary").click()
    expect(page.locator(".rb-sql")).to_contain_text("data_store")
    expect(page.locator(".rb-sql")).to_contain_text('parameters: ["Paris"]')

    type_rule(page, {"and": [{"field": "store.town", "op": "eq", "value": "x"}]})
    error = page.locator(".rb-error span[data-path='where.and[0].field']")
    expect(error).to_contain_text("unknown field 'town'")

    page.click("input[name=_save]")  # refused: the message names the path
    expect(page.locator("#id_where_error")).to_contain_text("where.and[0].field: unknown field")
    type_rule(page, {"field": "store.city", "op": "eq", "value": "Paris"})
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("paris_fans")
    saved = SavedAudience.objects.get(name="paris_fans")
    assert saved.kind == "rule" and saved.count == 2 and saved.counted_at is not None

    # the change form: the saved rule in the builder, counted, then changed through the service
    page.goto(f"{live_server.url}/admin/audiences/savedaudience/{saved.pk}/change/")
    expect(page.locator(".rb-cmp .rb-field")).to_have_text("store › city")
    expect(count).to_have_attribute("data-count", "2")
    type_rule(page, {"field": "country", "op": "eq", "value": "DE"})
    expect(count).to_have_attribute("data-count", "1")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("paris_fans")
    saved.refresh_from_db()
    assert saved.count == 1 and saved.where["value"] == "DE"
