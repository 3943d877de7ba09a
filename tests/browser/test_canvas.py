"""The campaign canvas in a real Chromium (design 12): the demo campaign drawn with nothing clipped
and no edge through a box at three widths; drawing a campaign from scratch with the mouse only,
configuring it in the side panel, saving, test-running and reading the counts; connections
refused with a message; read-only for a Viewer and for a published campaign until revised."""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
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
    log_in(page, live_server, *admin_user_password, f"/admin/campaigns/campaign/{campaign.pk}/change/")
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
    assert host.locator(".cc-world").get_attribute("transform") != before
    fit(page)
    assert host.evaluate(GEOMETRY) == []
    expect(host.locator(".cc-minimap rect.cc-mini-node")).to_have_count(n)
