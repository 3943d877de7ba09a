"""The campaign canvas in a real Chromium (design 12): the demo campaign drawn with nothing clipped
and no edge through a box at three widths; drawing a campaign from scratch with the mouse only,
configuring it in the side panel, saving, test-running and reading the counts; connections
refused with a message; read-only for a Viewer and for a published campaign until revised."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from campaigns import definitions, demo, services
from campaigns.models import Campaign, Run
from config.access import SYSTEM
from tests.browser.test_campaign_admin import log_in
from tests.campaigns import conftest as campaign_fixtures

pytestmark = pytest.mark.browser

schema = campaign_fixtures.schema
engine = campaign_fixtures.engine
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# In the page: every box inside the visible canvas, and every edge's path (sampled every 2 px)
# outside every box but near its own ports. Returns the problems found, in words.
GEOMETRY = """(host) => {
  const vp = host.querySelector('.cc-viewport').getBoundingClientRect();
  const problems = [];
  const boxes = {};
  host.querySelectorAll('.cc-node').forEach((n) => {
    const r = n.querySelector('.cc-box').getBoundingClientRect();
    boxes[n.dataset.key] = r;
    if (r.left < vp.left || r.right > vp.right || r.top < vp.top || r.bottom > vp.bottom)
      problems.push('box ' + n.dataset.key + ' outside the canvas ' + JSON.stringify([r.left, r.right, r.top, r.bottom, vp.left, vp.right, vp.top, vp.bottom]));
  });
  host.querySelectorAll('.cc-edge').forEach((g) => {
    const path = g.querySelector('.cc-edge-line'), m = path.getScreenCTM();
    const total = path.getTotalLength();
    for (let d = 0; d <= total; d += 2) {
      const p = path.getPointAtLength(d);
      const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
      for (const key in boxes) {
        const r = boxes[key];
        if (x <= r.left + 1 || x >= r.right - 1 || y <= r.top + 1 || y >= r.bottom - 1) continue;
        const ownSource = key === g.dataset.from && r.right - x < 8;
        const ownTarget = key === g.dataset.to && x - r.left < 8;
        if (!ownSource && !ownTarget) {
          problems.push('edge ' + g.dataset.from + '>' + g.dataset.to + ' crosses ' + key);
          return;
        }
      }
    }
  });
  return problems;
}"""


def canvas(page):
    host = page.locator("div.campaign-canvas.cc-ready")
    expect(host).to_be_visible()
    return host


def fit(page):
    page.locator(".cc-fit").click()
    page.wait_for_timeout(100)


@pytest.fixture
def demo_campaign(shop):
    return demo.ensure_example(user=SYSTEM)


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_the_demo_campaign_fits_with_no_edge_through_a_box(
    live_server, page, admin_user_password, demo_campaign, width
):
    page.set_viewport_size({"width": width, "height": 1000})
    campaign = Campaign.objects.get(name=demo.NAME)
    log_in(
        page, live_server, *admin_user_password, f"/admin/campaigns/campaign/{campaign.pk}/change/"
    )
    host = canvas(page)
    n = len(definitions.export(campaign)["activities"])
    expect(host.locator(".cc-node")).to_have_count(n)
    fit(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"canvas-demo-{width}.png"))
    assert host.evaluate(GEOMETRY) == []
    # The canvas is no wider than the page: nothing hidden to the right.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Zoom and pan move the drawing; Fit brings it back.
    before = host.locator(".cc-world").get_attribute("transform")
    host.locator(".cc-zoom-in").click()
    host.locator(".cc-zoom-in").click()
    assert host.locator(".cc-world").get_attribute("transform") != before
    # Part of the campaign is out of view: the minimap shows it all, a click there moves there.
    minimap = host.locator(".cc-minimap")
    expect(minimap).to_be_visible()
    expect(minimap.locator("rect.cc-mini-node")).to_have_count(n)
    zoomed = host.locator(".cc-world").get_attribute("transform")
    box = minimap.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    assert host.locator(".cc-world").get_attribute("transform") != zoomed
    fit(page)
    assert host.evaluate(GEOMETRY) == []
    expect(minimap).to_be_hidden()  # everything is in view


@pytest.fixture
def reachable(transactional_db):
    """A schema with an email and an SMS address, 20 records: points 100, 200... 2000."""
    import uuid

    from django.db import connection

    from audiences.services.schemas import create_schemas
    from tests.audiences.test_records_support import drop_data_tables

    name = f"reach_{uuid.uuid4().hex[:8]}"
    (created,) = create_schemas(
        document={
            "name": name,
            "primary_key": "customer_id",
            "targeting": {"email": "email", "sms": "phone"},
            "attributes": [
                {"name": "customer_id", "type": "string"},
                {"name": "email", "type": "string"},
                {"name": "phone", "type": "string"},
                {"name": "points", "type": "integer"},
            ],
        }
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO data_{name} (customer_id, email, phone, points) "
            "SELECT 'c' || i, 'c' || i || '@example.com', '+336' || (10000000 + i), i * 100 "
            "FROM generate_series(1, 20) AS i"
        )
    yield created
    drop_data_tables()


def node(host, key):
    return host.locator(f'.cc-node[data-key="{key}"]')


def center(locator):
    box = None
    for _attempt in range(20):  # the canvas may redraw between finding and measuring
        box = locator.bounding_box()
        if box:
            break
        locator.page.wait_for_timeout(50)
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_to(page, locator, x, y):
    page.mouse.move(*center(locator))
    page.mouse.down()
    page.mouse.move(x, y, steps=8)
    page.mouse.up()


def connect(page, host, source, port, target):
    drag_to(
        page,
        node(host, source).locator(f'.cc-port-out[data-port="{port}"]'),
        *center(node(host, target).locator(".cc-box")),
    )


def add(page, host, kind, x, y):
    """Drag the palette's ``kind`` to (x, y) of the graph; Escape closes its panel."""
    vp = host.locator(".cc-viewport").bounding_box()
    item = host.locator(f'.cc-palette .cc-kind[data-type="{kind}"]')
    item.scroll_into_view_if_needed()
    drag_to(page, item, vp["x"] + x, vp["y"] + y)
    host.locator(".cc-viewport").press("Escape")


def option(host, name):
    return host.locator(f'.cc-side .cc-field[data-option="{name}"]')


def without_positions(document):
    return {
        **{k: v for k, v in document.items() if k != "name"},
        "activities": [
            {k: v for k, v in a.items() if k != "position"} for a in document["activities"]
        ],
    }


def test_draw_configure_save_and_test_run_a_campaign_with_the_mouse(
    live_server, page, admin_user_password, reachable, engine, client
):
    page.set_viewport_size({"width": 1920, "height": 1100})
    campaign = services.create_from_definition(
        document={"name": "Drawn by hand", "activities": [], "transitions": []}, user=SYSTEM
    )
    log_in(
        page, live_server, *admin_user_password, f"/admin/campaigns/campaign/{campaign.pk}/change/"
    )
    host = canvas(page)
    expect(host.locator(".cc-palette-group h4")).to_have_text(
        ["Targeting", "Flow control", "Channels"]
    )
    expect(host.locator('.cc-kind[data-type="split"] .cc-kind-help')).to_contain_text("subsets")

    add(page, host, "build_audience", 120, 200)
    add(page, host, "split", 380, 200)
    add(page, host, "email", 660, 100)
    add(page, host, "sms", 660, 320)
    expect(host.locator(".cc-node")).to_have_count(4)

    # Configure in the side panel.
    node(host, "build_audience").click()
    option(host, "schema").locator("select").select_option(reachable.name)
    node(host, "split").click()
    option(host, "subsets").get_by_role("button", name="JSON of the list").click()
    option(host, "subsets").locator("textarea[data-option=subsets]").fill(
        json.dumps([{"name": "vip", "where": {"field": "points", "op": "gte", "value": 1000}}])
    )
    option(host, "complement").locator("input").check()
    expect(node(host, "split").locator(".cc-port-out")).to_have_count(2)  # vip, complement
    node(host, "email").click()
    option(host, "subject").locator("input, textarea").first.fill("Hello {{ profile.customer_id }}")
    option(host, "html").locator("textarea").fill("<p>You have {{ profile.points }} points</p>")
    option(host, "send_confirmation").locator("input").uncheck()
    host.locator(".cc-side").get_by_label("Label").fill("VIP mail")
    node(host, "sms").click()
    option(host, "text").locator("textarea").fill("Hi {{ profile.customer_id }}")
    option(host, "send_confirmation").locator("input").uncheck()

    # Connect the ports by dragging; invalid connections are refused with a message.
    connect(page, host, "build_audience", "out", "split")
    connect(page, host, "split", "vip", "email")
    connect(page, host, "split", "complement", "sms")
    expect(host.locator(".cc-edge")).to_have_count(3)
    connect(page, host, "sms", "out", "build_audience")
    expect(host.locator(".cc-message")).to_contain_text("takes no input")
    connect(page, host, "email", "out", "sms")
    expect(host.locator(".cc-message")).to_contain_text("takes one input")
    expect(host.locator(".cc-edge")).to_have_count(3)

    host.locator(".cc-save").click()
    expect(host.locator(".cc-message")).to_have_text("Saved.")
    expect(host.locator(".cc-valid")).to_be_visible()

    expected = {
        "name": "Drawn by hand",
        "activities": [
            {"id": "build_audience", "type": "build_audience", "schema": reachable.name},
            {
                "id": "split",
                "type": "split",
                "complement": True,
                "subsets": [
                    {"name": "vip", "where": {"field": "points", "op": "gte", "value": 1000}}
                ],
            },
            {
                "id": "email",
                "type": "email",
                "label": "VIP mail",
                "send_confirmation": False,
                "subject": "Hello {{ profile.customer_id }}",
                "html": "<p>You have {{ profile.points }} points</p>",
            },
            {
                "id": "sms",
                "type": "sms",
                "send_confirmation": False,
                "text": "Hi {{ profile.customer_id }}",
            },
        ],
        "transitions": [
            {"from": "build_audience", "to": "split"},
            {"from": "split", "port": "vip", "to": "email"},
            {"from": "split", "port": "complement", "to": "sms"},
        ],
    }
    client.force_login(Campaign.objects.get(pk=campaign.pk).owner or _admin())
    posted = client.post("/api/campaigns/", expected, content_type="application/json")
    assert posted.status_code == 201, posted.content
    through_api = definitions.export(Campaign.objects.get(pk=posted.json()["id"]))
    drawn = definitions.export(Campaign.objects.get(pk=campaign.pk))
    assert without_positions(drawn) == without_positions(through_api)
    assert all(a["position"] is not None for a in drawn["activities"])  # positions saved

    # Test run from the canvas; the counts appear on the transitions.
    engine.worker()
    host.locator(".cc-test-run").click()
    host.locator(".cc-start-test").click()
    expect(host.locator(".cc-run-status")).to_have_text("succeeded", timeout=60_000)
    run = Run.objects.get(campaign=campaign)
    assert run.test
    label = host.locator('.cc-edge[data-from="split"][data-port="vip"] .cc-edge-label')
    expect(label).to_have_text("11")  # points >= 1000: records 10 to 20
    expect(
        host.locator('.cc-edge[data-from="split"][data-port="complement"] .cc-edge-label')
    ).to_have_text("9")
    expect(host.locator('.cc-edge[data-from="build_audience"] .cc-edge-label')).to_have_text("20")
    expect(node(host, "email")).to_have_class(re.compile("cc-status-succeeded"))

    # A click on a transition shows its rows; on an activity, its run.
    host.locator('.cc-edge[data-from="split"][data-port="vip"] .cc-edge-hit').click(force=True)
    expect(host.locator(".cc-drawer")).to_contain_text("11 records took this transition")
    expect(host.locator(".cc-rows-table tr")).to_have_count(12)
    node(host, "sms").click()
    expect(host.locator(".cc-side .cc-activity-run")).to_contain_text("succeeded")
    expect(host.locator(".cc-side .cc-note")).to_contain_text("not sent (test run)")
    page.screenshot(path=str(SHOTS / "canvas-drawn-1920.png"))

    # The template editor's preview renders the saved content for a chosen record.
    node(host, "email").click()
    host.locator(".cc-preview-record").fill("c12")
    host.locator(".cc-preview-button").click()
    expect(host.locator(".cc-preview-subject")).to_contain_text("Hello c12")
    expect(host.locator(".cc-preview-html")).to_be_visible()

    # The run's page draws the same canvas, read-only, with the run's statuses and counts.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/campaigns/run/{run.pk}/change/")
    host = canvas(page)
    expect(host).to_have_class(re.compile("cc-readonly"))
    expect(host.locator(".cc-node.cc-status-succeeded")).to_have_count(4)
    expect(host.locator('.cc-edge[data-port="vip"] .cc-edge-label')).to_have_text("11")
    fit(page)
    assert host.evaluate(GEOMETRY) == []
    page.screenshot(path=str(SHOTS / "canvas-run-1280.png"))


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def test_a_viewer_sees_the_canvas_read_only(live_server, page, schema, roles):
    from tests.campaigns.test_admin import document
    from tests.conftest import member_of

    campaign = services.create_from_definition(document=document(schema), user=SYSTEM)
    member_of(roles["Viewer"], "vera", password="pw")
    log_in(page, live_server, "vera", "pw", f"/admin/campaigns/campaign/{campaign.pk}/change/")
    host = canvas(page)
    expect(host).to_have_class(re.compile("cc-readonly"))
    expect(host.locator(".cc-node")).to_have_count(4)
    expect(host.locator(".cc-palette")).to_have_count(0)
    for button in (".cc-save", ".cc-undo", ".cc-delete", ".cc-paste", ".cc-tidy", ".cc-test-run"):
        expect(host.locator(button)).to_have_count(0)
    expect(host.locator(".cc-readonly-note")).to_contain_text("view this campaign, not change it")
    # Selecting shows the options, disabled; Delete does nothing; boxes do not move.
    before = node(host, "check").get_attribute("transform")
    drag_to(page, node(host, "check").locator(".cc-box"), 900, 700)
    expect(node(host, "check")).to_have_attribute("transform", before)
    node(host, "check").click()
    expect(host.locator(".cc-side input[name=cc_id]")).to_be_disabled()
    host.locator(".cc-viewport").press("Delete")
    expect(host.locator(".cc-node")).to_have_count(4)
    page.screenshot(path=str(SHOTS / "canvas-viewer-1280.png"))
    # No output port starts a connection.
    connect(page, host, "aud", "out", "small")
    expect(host.locator(".cc-edge")).to_have_count(3)


def test_a_published_campaign_is_read_only_until_revised(
    live_server, page, admin_user_password, schema
):
    from tests.campaigns.test_admin import document

    campaign = services.create_from_definition(document=document(schema), user=SYSTEM)
    services.publish(campaign=campaign, user=SYSTEM)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    log_in(page, live_server, *admin_user_password, url)
    host = canvas(page)
    expect(host).to_have_class(re.compile("cc-readonly"))
    expect(host.locator(".cc-palette")).to_have_count(0)
    expect(host.locator(".cc-save")).to_have_count(0)
    expect(host.locator(".cc-readonly-note")).to_contain_text("Open a revision")
    # The canvas's save endpoint refuses too (the lifecycle's edit row), with a message.
    refused = page.evaluate(
        """async (url) => {
          const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
          const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token,
            'Content-Type': 'application/json'}, body: JSON.stringify({definition: {name: 'x',
            activities: [], transitions: []}})});
          return [r.status, await r.json()];
        }""",
        f"/admin/campaigns/campaign/{campaign.pk}/canvas/save/",
    )
    assert refused[0] == 409 and refused[1]["errors"][0]["message"]
    assert len(definitions.export(Campaign.objects.get(pk=campaign.pk))["activities"]) == 4

    page.get_by_role("button", name="Revise").click()
    host = canvas(page)
    expect(host).to_have_class(re.compile("cc-editable"))
    expect(host.locator(".cc-palette")).to_be_visible()
    node(host, "small").click()
    page.screenshot(path=str(SHOTS / "canvas-revision-1280.png"))
    host.locator(".cc-side input[name=cc_label]").fill("Too few")
    host.locator(".cc-side input[name=cc_label]").press("Tab")
    host.locator(".cc-save").click()
    expect(host.locator(".cc-message")).to_have_text("Saved.")
    saved = definitions.export(Campaign.objects.get(pk=campaign.pk))
    assert {a["id"]: a["label"] for a in saved["activities"]}["small"] == "Too few"


def test_the_demo_test_run_says_what_it_approved_and_skipped(
    live_server, page, admin_user_password, demo_campaign, engine
):
    engine.worker()
    campaign = Campaign.objects.get(name=demo.NAME)
    log_in(
        page, live_server, *admin_user_password, f"/admin/campaigns/campaign/{campaign.pk}/change/"
    )
    host = canvas(page)
    host.locator(".cc-test-run").click()
    # One input per declared variable, with its default.
    expect(host.locator("#cc-var-country")).to_have_value("FR")
    host.locator("#cc-var-min_size").fill("0")
    host.locator(".cc-start-test").click()
    expect(host.locator(".cc-run-status")).to_have_text("succeeded", timeout=60_000)
    run = Run.objects.get(campaign=campaign)
    assert run.variables["min_size"] == 0
    expect(host.locator(".cc-effect-approved")).to_contain_text("sign_off")
    expect(host.locator(".cc-effect-wait")).to_contain_text("cool_off")
    states = {ar.key: ar.state for ar in run.activity_runs.all()}
    assert states["sign_off"]["test_effect"] == "auto_approved"
    assert states["cool_off"]["test_effect"] == "wait_skipped"
    node(host, "cool_off").click()
    expect(host.locator(".cc-side .cc-note")).to_contain_text("not waited (test run")
    fit(page)
    assert host.evaluate(GEOMETRY) == []  # the counts' labels leave the geometry alone
    page.screenshot(path=str(SHOTS / "canvas-demo-run-1280.png"))


def test_edit_delete_undo_redo_copy_paste_and_label_in_place(
    live_server, page, admin_user_password, schema
):
    from tests.campaigns.test_admin import document

    page.set_viewport_size({"width": 1440, "height": 1000})
    campaign = services.create_from_definition(document=document(schema), user=SYSTEM)
    log_in(
        page, live_server, *admin_user_password, f"/admin/campaigns/campaign/{campaign.pk}/change/"
    )
    host = canvas(page)
    viewport = host.locator(".cc-viewport")
    expect(host.locator(".cc-node")).to_have_count(4)

    # Delete an activity with its transition; undo brings both back; redo removes them again.
    node(host, "small").click()
    viewport.press("Delete")
    expect(host.locator(".cc-node")).to_have_count(3)
    expect(host.locator(".cc-edge")).to_have_count(2)
    host.locator(".cc-undo").click()
    expect(host.locator(".cc-node")).to_have_count(4)
    expect(host.locator(".cc-edge")).to_have_count(3)
    viewport.press("Control+y")
    expect(host.locator(".cc-node")).to_have_count(3)
    viewport.press("Control+z")
    expect(host.locator(".cc-edge")).to_have_count(3)

    # Select two by shift-click, copy and paste: fresh ids, their transition copied too.
    node(host, "done").click()
    node(host, "check").click(modifiers=["Shift"])
    expect(host.locator(".cc-node.cc-selected")).to_have_count(2)
    viewport.press("Control+c")
    viewport.press("Control+v")
    expect(host.locator(".cc-node")).to_have_count(6)
    expect(node(host, "check_copy")).to_have_class(re.compile("cc-selected"))
    expect(host.locator('.cc-edge[data-from="check_copy"][data-to="done_copy"]')).to_have_count(1)

    # Move the pasted pair by dragging one of them.
    before = node(host, "done_copy").get_attribute("transform")
    x, y = center(node(host, "check_copy").locator(".cc-title"))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y + 60, steps=5)
    page.mouse.up()
    assert node(host, "done_copy").get_attribute("transform") != before

    # Shift-drag on the background selects a rectangle.
    vp = viewport.bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(vp["x"] + 2, vp["y"] + 2)
    page.mouse.down()
    page.mouse.move(vp["x"] + vp["width"] - 200, vp["y"] + vp["height"] - 120, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(host.locator(".cc-message")).to_contain_text("activities selected")

    # A label edited in place, on the box.
    fit(page)
    node(host, "aud").locator(".cc-title").dblclick()
    host.locator(".cc-label-input").fill("Everyone in France")
    host.locator(".cc-label-input").press("Enter")
    expect(node(host, "aud").locator(".cc-title")).to_have_text("Everyone in France")

    # Save: the pasted activities have no input yet, so the draft is saved with its errors,
    # shown on their activities; a click on an error selects its activity.
    host.locator(".cc-save").click()
    expect(host.locator(".cc-message")).to_contain_text("Saved as a draft")
    expect(node(host, "check_copy")).to_have_class(re.compile("cc-invalid"))
    expect(node(host, "check_copy").locator(".cc-error-mark")).to_have_count(1)
    host.locator('.cc-error-list li[data-key="check_copy"]').first.click()
    expect(node(host, "check_copy")).to_have_class(re.compile("cc-selected"))
    expect(host.locator(".cc-side .cc-panel-error").first).to_contain_text("input")
    saved = definitions.export(Campaign.objects.get(pk=campaign.pk))
    assert [a["id"] for a in saved["activities"]] == [
        "aud",
        "check",
        "done",
        "small",
        "check_copy",
        "done_copy",
    ]
    assert {a["id"]: a["label"] for a in saved["activities"]}["aud"] == "Everyone in France"
    assert {"from": "check_copy", "port": "big", "to": "done_copy"} in saved["transitions"]
    page.screenshot(path=str(SHOTS / "canvas-edited-1440.png"))


@pytest.mark.parametrize("saved_at, opened_at", [(1920, 1280), (1280, 1920)])
def test_positions_saved_at_one_width_still_route_around_the_boxes_at_another(
    live_server, page, admin_user_password, demo_campaign, saved_at, opened_at
):
    campaign = Campaign.objects.get(name=demo.NAME)
    page.set_viewport_size({"width": saved_at, "height": 1000})
    log_in(
        page, live_server, *admin_user_password, f"/admin/campaigns/campaign/{campaign.pk}/change/"
    )
    host = canvas(page)
    host.locator(".cc-save").click()
    expect(host.locator(".cc-message")).to_have_text("Saved.")
    positions = {a["id"]: a["position"] for a in definitions.export(campaign)["activities"]}
    assert all(positions.values())
    page.set_viewport_size({"width": opened_at, "height": 1000})
    page.reload()
    host = canvas(page)
    fit(page)
    assert host.evaluate(GEOMETRY) == []
    assert {a["id"]: a["position"] for a in definitions.export(campaign)["activities"]} == positions
