"""The rule builder in a real Chromium (design 12): a rule built with the mouse gives the same
count as the same rule typed as JSON, the JSON view shows it, errors appear at their path, and
conditions are reordered by dragging."""

import json
import re

import pytest
from playwright.sync_api import expect

from audiences.models import SavedAudience
from tests.browser.shop import RULE, RULE_COUNT
from tests.browser.test_pages import shoot

pytestmark = [pytest.mark.browser]


def log_in(page, live_server, credentials, next_url):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.click("input[type=submit]")


def pick(page, block, *path):
    """Open the field picker of ``block``'s comparison and follow ``path`` (links, then a field)."""
    block.locator(":scope > .rb-line .rb-field").click()
    picker = page.locator(".rb-picker")
    walked = ""
    for part in path[:-1]:
        walked += part + "."
        picker.locator(f"button[data-path='{walked}']").click()
    picker.locator(f"button[data-path='{walked}{path[-1]}']").click()
    expect(picker).to_have_count(0)


def drag(page, handle, target):
    """Drag ``handle`` above ``target`` with the mouse, in small steps as a person would."""
    start, goal = handle.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 4, start["y"] + 6)
    page.mouse.down()
    page.mouse.move(goal["x"] + 20, goal["y"] + 4, steps=12)
    page.mouse.move(goal["x"] + 20, goal["y"] + 2, steps=3)
    page.mouse.up()


def last_condition(group):
    return group.locator(":scope > .rb-children > .rb-cond").last


def count_shown(page):
    value = page.locator(".rb-count .rb-count-value")
    expect(value).to_be_visible()
    return int(value.get_attribute("data-count"))


def build_with_the_mouse(page):
    root = page.locator(".rule-builder > .rb-visual > .rb-top")
    expect(root).to_be_visible()
    # a linked field with an enum: the store's country
    root.locator(":scope > .rb-add .rb-add-cmp").click()
    country = last_condition(root)
    pick(page, country, "store", "country")
    country.locator(":scope > .rb-line select.rb-op").select_option("eq")
    country.locator(":scope > .rb-line .rb-scalar select").last.select_option("FR")
    # an exists block over the store, with an aggregate inside and a date in the last 90 days
    root.locator(":scope > .rb-add .rb-add-exists").click()
    exists = last_condition(root)
    exists.locator(":scope > .rb-line select.rb-link").select_option("store")
    inner = exists.locator(":scope > .rb-nested > .rb-where")
    inner.locator(":scope > .rb-add .rb-add-agg").click()
    aggregate = last_condition(inner)
    aggregate.locator(":scope > .rb-line select.rb-link").select_option("purchases")
    aggregate.locator(":scope > .rb-line select.rb-func").select_option("count")
    aggregate.locator(":scope > .rb-line select.rb-op").select_option("gte")
    aggregate.locator(":scope > .rb-line .rb-value-input").fill("2")
    filters = aggregate.locator(":scope > .rb-nested > .rb-where")
    filters.locator(":scope > .rb-add .rb-add-cmp").click()
    date = last_condition(filters)
    pick(page, date, "purchased_at")
    date.locator(":scope > .rb-line select.rb-op").select_option("in_last")
    date.locator(":scope > .rb-line .rb-amount").fill("90")
    date.locator(":scope > .rb-line .rb-duration select").select_option("d")
    # a "not" group: neither fewer than 100 points nor living in Germany
    root.locator(":scope > .rb-add .rb-add-group").click()
    group = last_condition(root)
    group.locator(":scope > .rb-line .rb-not").click()
    expect(group).to_have_class("rb-cond rb-group rb-negated")
    group.locator(":scope > .rb-line select.rb-combinator").select_option("or")
    group.locator(":scope > .rb-add .rb-add-cmp").click()
    points = last_condition(group)
    pick(page, points, "loyalty_points")
    points.locator(":scope > .rb-line select.rb-op").select_option("lt")
    points.locator(":scope > .rb-line .rb-value-input").fill("100")
    group.locator(":scope > .rb-add .rb-add-cmp").click()
    lives = last_condition(group)
    pick(page, lives, "country")
    lives.locator(":scope > .rb-line .rb-scalar select").last.select_option("DE")


def test_same_count_with_the_mouse_and_as_json(live_server, page, admin_user_password, shop):
    log_in(page, live_server, admin_user_password, "/admin/audiences/savedaudience/add/")
    page.fill("#id_name", "busy_paris_stores")
    page.select_option("#id_schema", label="Customers")
    build_with_the_mouse(page)
    expect(page.locator(".rb-count .rb-count-value")).to_have_attribute(
        "data-count", str(RULE_COUNT)
    )
    by_mouse = count_shown(page)

    page.get_by_role("button", name="JSON").click()
    editor = page.locator("#id_where")
    assert json.loads(editor.input_value()) == RULE  # the JSON view shows that rule

    editor.fill("")
    editor.fill(json.dumps(RULE))  # the same rule typed as JSON
    page.get_by_role("button", name="Builder").click()
    expect(page.locator(".rb-visual > .rb-top > .rb-children > .rb-cond")).to_have_count(3)
    expect(page.locator(".rb-count .rb-count-value")).to_have_attribute("data-count", str(by_mouse))
    assert count_shown(page) == RULE_COUNT == by_mouse

    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("busy_paris_stores")
    saved = SavedAudience.objects.get(name="busy_paris_stores")
    assert saved.where == RULE and saved.count == RULE_COUNT


def test_errors_at_their_path_and_drag_to_reorder(live_server, page, admin_user_password, shop):
    log_in(page, live_server, admin_user_password, "/admin/audiences/savedaudience/add/")
    page.select_option("#id_schema", label="Customers")
    page.get_by_role("button", name="JSON").click()
    editor = page.locator("#id_where")
    editor.fill('{"and": [{"field": "country", "op": "bogus", "value": 1}]}')
    expect(page.locator(".rb-json-errors li[data-path='where.and[0].op']")).to_contain_text(
        "unknown operator"
    )
    editor.fill('{"and": [{"field": "country", "op": "eq", "value": "FR"},')
    expect(page.locator(".rb-json-errors")).to_contain_text("not JSON: line 1")

    # an error only the server finds is shown on its block
    editor.fill(json.dumps({"and": [{"field": "store.town", "op": "eq", "value": "x"}]}))
    page.get_by_role("button", name="Builder").click()
    error = page.locator(".rb-cmp[data-path='where.and[0]'] .rb-error")
    expect(error).to_contain_text("unknown field 'town'")

    rule = {
        "or": [
            {"field": "country", "op": "eq", "value": "FR"},
            {"field": "loyalty_points", "op": "gt", "value": 100},
        ]
    }
    page.get_by_role("button", name="JSON").click()
    editor.fill(json.dumps(rule))
    page.get_by_role("button", name="Builder").click()
    rows = page.locator(".rb-visual > .rb-top > .rb-children > .rb-cond")
    expect(rows).to_have_count(2)
    drag(page, rows.nth(1).locator(":scope > .rb-line .rb-handle"), rows.nth(0))
    page.get_by_role("button", name="JSON").click()
    assert json.loads(editor.input_value()) == {"or": rule["or"][::-1]}


def test_the_rules_of_activity_pages(live_server, page, admin_user_password, shop):
    from campaigns import services
    from campaigns.models import Activity
    from config.access import SYSTEM

    campaign = services.create_from_definition(
        document={
            "name": "Busy stores",
            "activities": [
                {"id": "aud", "type": "build_audience", "schema": "customer", "where": RULE},
                {"id": "vip", "type": "split", "subsets": [
                    {"name": "gold", "where": {"field": "loyalty_points", "op": "gte", "value": 500}}]},
            ],
            "transitions": [{"from": "aud", "to": "vip"}],
        },
        user=SYSTEM,
    )  # fmt: skip
    activities = {a.key: a for a in Activity.objects.non_polymorphic().filter(campaign=campaign)}
    log_in(
        page,
        live_server,
        admin_user_password,
        f"/admin/campaigns/activity/{activities['aud'].pk}/change/",
    )
    builder = page.locator(".field-option_where .rule-builder")
    expect(builder.locator(".rb-visual > .rb-top > .rb-children > .rb-cond")).to_have_count(3)
    expect(builder.locator(".rb-count .rb-count-value")).to_have_attribute(
        "data-count", str(RULE_COUNT)
    )
    shoot(page, "activity-build-audience")

    # a split's subsets: one builder per subset, on the population flowing in
    page.goto(f"{live_server.url}/admin/campaigns/activity/{activities['vip'].pk}/change/")
    subset = page.locator(".rb-item[data-item='0']")
    expect(subset.locator(".rb-item-title")).to_have_text("Subset “gold”")
    points = subset.locator(".rb-cmp").first
    expect(points.locator(".rb-field")).to_have_text("loyalty_points")
    points.locator(".rb-value-input").fill("800")
    page.locator(".rb-item-add").click()
    expect(page.locator(".rb-item")).to_have_count(2)
    shoot(page, "activity-split")
    page.click("input[name=_save]")
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/campaign/{campaign.pk}/change/$"))
    saved = Activity.objects.non_polymorphic().get(campaign=campaign, key="vip").options["subsets"]
    assert saved[0]["where"] == {"field": "loyalty_points", "op": "gte", "value": 800}
    assert saved[1] == {"name": "subset_2", "where": {"and": []}}
