"""The audience builder in a real Chromium: pick fields, calculate, preview, see the SQL, see
errors at their path, save a rule audience."""

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


def test_build_count_preview_sql_and_save(live_server, page, admin_user_password):
    schemas = rule_data.load()
    log_in(page, live_server, admin_user_password)
    page.fill("#id_name", "paris_fans")
    page.select_option("#id_schema", str(schemas["customer"].pk))
    picker = page.locator("#builder-picker")
    expect(picker.locator("a[data-path='store.region.name']")).to_be_visible()
    expect(picker.locator("a[data-path='purchases']")).to_be_visible()

    editor = page.locator("#id_where")
    editor.fill("")
    picker.locator("a[data-path='store.city']").click()
    inserted = json.loads(editor.input_value())
    assert inserted == {"field": "store.city", "op": "eq", "value": None}
    editor.fill(json.dumps({"field": "store.city", "op": "eq", "value": "Paris"}))

    page.click("#builder-calculate")
    expect(page.locator("#builder-count")).to_contain_text("2 records (")
    expect(page.locator("#builder-count")).to_contain_text(" ms)")
    page.click("#builder-preview")
    expect(page.locator("#builder-rows table tbody tr")).to_have_count(2)
    expect(page.locator("#builder-rows")).to_contain_text("c5")
    page.click("#builder-sql")
    expect(page.locator("#builder-sql-text")).to_contain_text("data_store")
    expect(page.locator("#builder-sql-text")).to_contain_text('params: ["Paris"]')

    editor.fill(json.dumps({"and": [{"field": "store.town", "op": "eq", "value": "x"}]}))
    page.click("#builder-calculate")
    error = page.locator("#builder-errors li[data-path='where.and[0].field']")
    expect(error).to_contain_text("unknown field 'town'")

    page.click("input[name=_save]")  # refused: the message names the path
    expect(page.locator("#id_where_error")).to_contain_text("where.and[0].field: unknown field")
    page.locator("#id_where").fill(
        json.dumps({"field": "store.city", "op": "eq", "value": "Paris"})
    )
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("paris_fans")
    saved = SavedAudience.objects.get(name="paris_fans")
    assert saved.kind == "rule" and saved.count == 2 and saved.counted_at is not None

    # the change form: the saved rule, recalculated, then changed through the service
    page.goto(f"{live_server.url}/admin/audiences/savedaudience/{saved.pk}/change/")
    expect(page.locator("#id_where")).to_have_value(json.dumps(saved.where, indent=2))
    page.click("#builder-calculate")
    expect(page.locator("#builder-count")).to_contain_text("2 records (")
    page.locator("#id_where").fill(json.dumps({"field": "country", "op": "eq", "value": "DE"}))
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("paris_fans")
    saved.refresh_from_db()
    assert saved.count == 1 and saved.where["value"] == "DE"
