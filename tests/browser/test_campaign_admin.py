"""The campaign page in a real Chromium: its graph picture, a lifecycle button and its message."""

import re

import pytest
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import Run
from config.access import SYSTEM
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.test_admin import document

pytestmark = pytest.mark.browser

# The campaign tests' fixtures: a customer schema with 20 records; Redis flushed after.
schema = campaign_fixtures.schema
engine = campaign_fixtures.engine


def log_in(page, live_server, username, password, next_url):
    page.goto(f"{live_server.url}{next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_open_a_campaign_see_its_graph_and_test_run_it(
    live_server,
    page,
    admin_user_password,
    schema,
    engine,
):
    campaign = services.create_from_definition(document=document(schema), user=SYSTEM)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    log_in(page, live_server, *admin_user_password, url)
    expect(page.locator("svg.campaign-graph")).to_be_visible()
    expect(page.locator("svg.campaign-graph g.activity")).to_have_count(4)
    expect(page.locator("svg.campaign-graph g.edge")).to_have_count(3)
    expect(page.locator(".campaign-valid")).to_have_text("Valid.")

    # Only the actions that apply to a draft are offered.
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    expect(page.get_by_role("button", name="Publish")).to_be_visible()

    page.get_by_role("button", name="Test run").click()  # the canvas's, with its form
    page.get_by_role("button", name="Start the test run").click()
    expect(page.locator(".cc-message")).to_contain_text("started")
    run = Run.objects.get(campaign=campaign)
    expect(page.locator(".cc-runbar")).to_contain_text(f"Test run {run.pk}")
    page.reload()
    expect(page.locator(".field-recent_runs")).to_contain_text(f"run {run.pk}")
    page.locator(".cc-runbar a").click()
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/run/{run.pk}/change/$"))
    expect(page.locator(".field-transitions_table")).to_contain_text("check")


def test_add_an_activity_of_a_chosen_kind_from_the_menu(
    live_server, page, admin_user_password, schema
):
    campaign = services.create_from_definition(document=document(schema), user=SYSTEM)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    log_in(page, live_server, *admin_user_password, url)
    page.locator(".add-activity").get_by_role("link", name="Wait", exact=True).click()
    expect(page.locator("#content h2")).to_contain_text("Holds the population")  # the kind's help
    page.fill("#id_key", "pause_a_bit")
    page.fill("#id_option_duration", "2h")  # a field generated from the option schema
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/campaign/{campaign.pk}/change/$"))
    expect(page.locator('svg.campaign-graph g.activity[data-key="pause_a_bit"]')).to_be_visible()
    expect(page.locator(".campaign-validation")).to_contain_text("pause_a_bit")  # no input yet
    added = campaign.activities.non_polymorphic().get(key="pause_a_bit")
    assert (added.type, added.options) == ("wait", {"duration": "2h", "until": None})
