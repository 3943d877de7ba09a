"""The forecast panel of the campaign page in a real Chromium: the warnings in words, the
channel table and the Chart.js chart of the next 7 days' load; publishing repeats the warnings."""

import datetime as dt
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from tests.browser.test_campaign_admin import log_in
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.test_forecast import DAILY_0930, create, finished_run, providers

pytestmark = pytest.mark.browser
schema = campaign_fixtures.schema
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@override_settings(CHANNEL_PROVIDERS=providers(email_limit=30_000))
def test_the_panel_shows_the_warnings_and_the_chart(live_server, page, admin_user_password, schema):
    campaign = create(schema, "Big daily", DAILY_0930, throttle_per_second=10, validity_hours=12)
    finished_run(campaign, schema, 1_000_000, at=dt.datetime.now(dt.UTC))
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        if width == 1280:
            log_in(page, live_server, *admin_user_password, url)
        else:
            page.goto(f"{live_server.url}{url}")
        panel = page.locator("#campaign-forecast")
        expect(panel).to_be_visible()
        expect(panel.locator(".forecast-warning[data-code=throttle_window]")).to_contain_text(
            "1,000,000 recipients at 30,000/h (the email provider's hourly limit) cannot be sent"
        )
        expect(panel.locator(".forecast-warning[data-code=hourly_limit]")).to_contain_text(
            "hourly limit (30,000/h)"
        )
        expect(panel.locator("table.forecast-channels")).to_contain_text("1,000,000")
        expect(panel.locator("canvas#forecast-chart[data-ready='1']")).to_be_visible()
        # Chart.js drew it: 168 hourly bars, this campaign's and the limit line.
        drawn = page.evaluate(
            "() => { const c = window.campaignForecastChart; return [c.data.labels.length, "
            "c.data.datasets.map(d => d.label), Math.max(...c.data.datasets[0].data)]; }"
        )
        assert drawn[0] == 168
        assert drawn[1] == [
            "email: this campaign", "email: other campaigns", "email: provider hourly limit",
        ]  # fmt: skip
        assert drawn[2] == 36_000
        panel.scroll_into_view_if_needed()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"forecast-{width}.png"), full_page=True)

    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messagelist .warning").first).to_contain_text("forecast:")
    expect(page.locator(".messagelist")).to_contain_text("would expire")
