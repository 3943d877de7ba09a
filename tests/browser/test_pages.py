"""The pages a marketer reads, in a real Chromium: the data browser (sort by a column, follow a
many-to-one link), a task page (the count and the samples of what is decided) and screenshots
of the audience builder, the data browser and a task page at 1280 and 1920 px, none wider than
the window (``test-artifacts/page-<name>-<width>.png``)."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import HumanTask
from tests.browser.conftest import ARTIFACTS
from tests.browser.shop import RULE
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.conftest import final_run
from tests.campaigns.governance import created, policy
from tests.conftest import member_of

pytestmark = pytest.mark.browser
schema, engine = campaign_fixtures.schema, campaign_fixtures.engine
WIDTHS = (1280, 1920)


def log_in(page, live_server, credentials, next_url):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.click("input[type=submit]")


# Elements of the page's content that reach past the window without a scrolling box around them
# (a clipped form is as bad as a page that scrolls sideways).
OVERFLOWING = """() => {
  const limit = document.documentElement.clientWidth, found = [];
  for (const el of document.querySelectorAll("#content *")) {
    let box = el.parentElement, scrolls = false;
    for (; box && box !== document.body; box = box.parentElement) {
      const x = getComputedStyle(box).overflowX;
      if (x === "auto" || x === "scroll") { scrolls = true; break; }
    }
    const right = el.getBoundingClientRect().right;
    if (!scrolls && right > limit + 1 && el.offsetParent !== null) found.push(el.tagName + "." + el.className + " " + Math.round(right));
  }
  return found.slice(0, 5);
}"""


def shoot(page, name):
    """Screenshots at each width; the page never scrolls sideways (its wide tables do)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        wide = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(ARTIFACTS / f"page-{name}-{width}.png"), full_page=True)
        assert wide <= page.evaluate("window.innerWidth"), f"{name} overflows at {width} px"
        assert page.evaluate(OVERFLOWING) == [], f"{name} is cut at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_data_browser_sorts_and_follows_links(
    live_server, page, admin_user_password, shop, tmp_path
):
    log_in(page, live_server, admin_user_password, "/admin/")
    page.get_by_role("link", name="Data", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/admin/audiences/recordimport/data/$"))
    page.get_by_role("link", name="Customers").click()
    table = page.locator("#result_list")
    expect(table.locator("thead th").nth(1)).to_have_text(re.compile("First name"))
    table.locator("thead th a", has_text="Loyalty points").click()
    expect(page).to_have_url(re.compile(r"[?&]o=loyalty_points"))
    first = table.locator("tbody tr").first
    expect(first.locator("td").first).to_have_text("c2")  # 50 points, the fewest
    table.locator("thead th a", has_text="Loyalty points").click()  # again: descending
    expect(page).to_have_url(re.compile(r"[?&]o=-loyalty_points"))
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("c8")
    shoot(page, "data-browser")

    page.locator("tbody tr", has_text="c2").get_by_role("link", name="s1").click()  # its store
    expect(page).to_have_url(re.compile(r"/data/store/record/s1/$"))
    expect(page.locator("#content")).to_contain_text("Rivoli")

    # what the ground issues built, still there: imports in the history, record estimates
    source = tmp_path / "more_stores.csv"
    source.write_text(
        "store_id,name,city,country\ns1,Rivoli,Paris,FR\ns4,Canal,Lille,FR\ns5,Vieux Port,Marseille,FR\n"
    )
    call_command("import_records", "store", str(source), stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE data_store")
    page.goto(f"{live_server.url}/admin/audiences/recordimport/")
    history = page.locator("#result_list tbody tr").first
    expect(history).to_contain_text("more_stores.csv")
    expect(history).to_contain_text("Succeeded")
    headers = page.locator("#result_list thead th").all_inner_texts()
    cells = dict(zip(headers, history.locator("td, th").all_inner_texts(), strict=False))
    assert (cells["ROWS"], cells["WRITTEN"]) == ("3", "3 (1 unchanged)")  # s1 as stored
    shoot(page, "import-history")
    page.goto(f"{live_server.url}/admin/audiences/schema/")
    expect(page.locator("#result_list tr", has_text="Stores")).to_contain_text("5")

    page.get_by_role("link", name="customer").first.click()
    expect(page.locator("textarea[name$='-enum']:has-text('null')")).to_have_count(0)
    page.get_by_role("link", name="Browse the records").click()
    expect(page).to_have_url(re.compile(r"/data/customer/$"))


def test_the_audience_builder_at_two_widths(live_server, page, admin_user_password, shop):
    log_in(page, live_server, admin_user_password, "/admin/audiences/savedaudience/add/")
    page.fill("#id_name", "busy_paris_stores")
    page.select_option("#id_schema", label="Customers")
    page.get_by_role("button", name="JSON").click()
    page.locator("#id_where").fill(json.dumps(RULE))
    page.get_by_role("button", name="Builder").click()
    expect(page.locator(".rb-count .rb-count-value")).to_have_attribute("data-count", "3")
    page.locator(".rb-preview > summary").click()
    expect(page.locator(".rb-rows table tbody tr")).to_have_count(3)
    page.locator(".rb-sql-box summary").click()
    shoot(page, "audience-builder")


def test_a_task_page_shows_the_count_and_the_samples(live_server, page, schema, engine, roles):
    engine.worker()
    editor = member_of(roles["Editor"], "ed")
    publisher = member_of(roles["Publisher"], "pub")
    member_of(roles["Approver"], "ann", password="pw")
    policy(roles["Approver"])
    campaign = created(schema)
    final_run(services.test_run(campaign=campaign, user=editor))
    services.publish(campaign=campaign, user=publisher)
    task = HumanTask.objects.get(campaign=campaign)

    log_in(page, live_server, ("ann", "pw"), f"/admin/campaigns/humantask/{task.pk}/change/")
    decided = page.locator(".task-decided")
    expect(decided).to_contain_text("Publish")
    expect(decided.locator(".task-count")).to_have_text("15")  # the test run's audience
    expect(page.locator(".task-samples tr.sample-recipient")).to_have_count(3)
    expect(page.locator(".task-samples")).to_contain_text("Spring is here.")
    expect(page.get_by_role("button", name="Approve")).to_have_class(re.compile("task-approve"))
    expect(page.get_by_role("button", name="Reject")).to_have_class(re.compile("task-reject"))
    shoot(page, "task")
