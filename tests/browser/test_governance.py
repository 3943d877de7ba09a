"""Publication under approval in a real Chromium (issue 14), with three people in their roles and
real worker processes: (1) an editor changes a campaign under an "always" policy and test-runs
it; a publisher publishes it, and it shows "pending approval"; (2) an approver (not the editor)
opens "My tasks", sees the graph, the samples and the diff, and approves; (3) the run starts.

With ``SCREENSHOTS=1`` in the environment, the pages are also saved at 1280 and 1920 px wide in
``test-artifacts/`` for a look."""

import os
import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, HumanTask, Run
from tests.browser.conftest import ARTIFACTS
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.conftest import final_run, wait_for
from tests.campaigns.governance import created, policy
from tests.conftest import member_of

pytestmark = pytest.mark.browser
schema, engine = campaign_fixtures.schema, campaign_fixtures.engine


def shoot(page, name):
    if not os.environ.get("SCREENSHOTS"):
        return
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"governance-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in_as(page, live_server, username, next_url):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}{next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


def test_an_approver_signs_off_a_publication_and_the_run_starts(
    live_server, page, schema, engine, roles
):
    engine.worker()
    for role, name in (("Editor", "ed"), ("Publisher", "pub"), ("Approver", "ann")):
        member_of(roles[role], name, password="pw")
    policy(roles["Approver"])
    campaign = created(schema)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"

    # (1) The editor changes the campaign and test-runs it; the publisher publishes it.
    log_in_as(page, live_server, "ed", url)
    page.fill("#id_description", "For every customer in France, this spring.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    page.get_by_role("button", name="Test run").click()  # the canvas's, with its form
    page.get_by_role("button", name="Start the test run").click()
    expect(page.locator(".cc-message")).to_contain_text("started")
    final_run(Run.objects.get(campaign=campaign, test=True))
    log_in_as(page, live_server, "pub", url)
    expect(page.get_by_role("button", name="Test run")).to_have_count(0)  # not a publisher's
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messagelist .success")).to_contain_text("sent for approval")
    expect(page.locator(".field-status .readonly")).to_have_text("pending approval")
    expect(page.locator(".campaign-approval")).to_contain_text("Waiting for approval by Approver")
    shoot(page, "pending-campaign")
    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    expect(page.locator("#result_list")).to_contain_text("pending approval")

    # (2) The approver opens My tasks, sees the graph, the samples and the diff, and approves.
    log_in_as(page, live_server, "ann", "/admin/")
    badge = page.locator(".my-tasks-link .badge")
    expect(badge).to_have_text("1")
    page.locator(".my-tasks-link").click()
    shoot(page, "my-tasks")
    task = HumanTask.objects.get(campaign=campaign)
    page.locator(f'tr.my-task[data-task="{task.pk}"] a').click()
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/humantask/{task.pk}/change/$"))
    expect(page.locator(".task-requested")).to_contain_text("Asked by pub")
    expect(page.locator(".task-graph svg.campaign-graph g.activity")).to_have_count(3)
    expect(page.locator('.task-graph .cc-edge[data-port="out"] .cc-edge-label').first).to_have_text(
        "15"
    )
    expect(page.locator(".task-samples tr.sample-recipient")).to_have_count(3)
    expect(page.locator(".task-samples")).to_contain_text("Spring is here.")
    diff = page.locator("table.version-diff")
    expect(diff).to_contain_text("activity mail added")
    expect(diff).to_contain_text("setting description added")
    shoot(page, "task")
    page.fill("#task-comment", "Good to go.")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist .success")).to_contain_text(f"Task {task.pk} approved.")
    expect(badge).to_have_text("0")

    # (3) The run starts: version 1 is live and its run goes through.
    live = wait_for(lambda: Run.objects.filter(campaign=campaign, test=False).first())
    assert live.version.number == 1
    assert final_run(live).status == "succeeded"
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"
    page.goto(f"{live_server.url}{url}")
    expect(page.locator(".field-versions")).to_contain_text("approved")
    page.locator(".field-versions a", has_text="changes").first.click()
    expect(page.locator("table.version-diff")).to_be_visible()
    shoot(page, "versions")
