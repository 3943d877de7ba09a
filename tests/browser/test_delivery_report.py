"""The delivery report in a real Chromium: the sends-over-time chart and the funnel drawn by the
vendored Chart.js with the delivery's figures, and the campaign page's headline figures.
Screenshots at 1280 and 1920 px go to test-artifacts/."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_channels_admin import login, shoot
from tests.channels.conftest import shop  # noqa: F401 - the fixture
from tests.channels.engagement import stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fixture(shop):  # noqa: F811
    """20 targeted, c001-c002 excluded (no address), 18 sent over 3 minutes; 15 delivered,
    8 opened by people (and one proxy open), 3 clicked."""
    from campaigns import services
    from channels.models import Delivery
    from config.access import SYSTEM
    from tests.channels.helpers import document

    campaign = services.create_from_definition(document=document(shop, name="Winter"), user=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE data_{shop.name} SET email = NULL WHERE customer_id <= 'c002'")
    delivery = stage(shop, owner={"campaign_name": "Winter", "activity_key": "send",
                                  "campaign_id": campaign.pk})  # fmt: skip
    start = timezone.now() - datetime.timedelta(minutes=10)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="finished", started_at=start, finished_at=start + datetime.timedelta(minutes=3)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_message SET status = 'sent', sent_at = %s + "
            "make_interval(mins => (substr(key, 2)::int %% 3)) WHERE delivery_id = %s "
            "AND status = 'queued'",
            [start, delivery.pk],
        )
        cursor.execute(
            "UPDATE channels_chunk SET status = 'done', sent = 18 WHERE delivery_id = %s",
            [delivery.pk],
        )
        for kind, last, bot in (("delivered", 17, False), ("open", 10, False),
                                ("open", 3, True), ("click", 5, False)):  # fmt: skip
            cursor.execute(
                "INSERT INTO channels_event (delivery_id, message_id, kind, bot, soft, url, "
                "user_agent, data, created_at) SELECT delivery_id, id, %s, %s, false, '', '', "
                "'{}', now() FROM channels_message WHERE delivery_id = %s AND status = 'sent' "
                "AND substr(key, 2)::int <= %s",
                [kind, bot, delivery.pk, last],
            )
    return campaign, delivery


def test_the_delivery_page_shows_the_chart_and_the_funnel(
    live_server,
    page,
    admin_user_password,
    shop,  # noqa: F811
):
    campaign, delivery = _fixture(shop)
    login(page, live_server, admin_user_password)
    page.goto(f"{live_server.url}/admin/channels/delivery/{delivery.pk}/change/")
    steps = {"targeted": "20", "sent": "18", "delivered": "15", "opened": "8", "clicked": "3"}
    for step, count in steps.items():
        expect(page.locator(f'#funnel-table tr[data-step="{step}"] .funnel-count')).to_have_text(
            count
        )
    funnel = page.evaluate("Chart.getChart('funnel-chart').data.datasets[0].data")
    assert funnel == [20, 18, 15, 8, 3]
    sends = page.evaluate("Chart.getChart('sends-chart').data.datasets[0].data")
    assert sum(sends) == 18 and len(sends) == 3  # three minutes of sends
    assert page.evaluate("document.getElementById('sends-chart').width") > 100
    expect(page.locator(".count-bot_opens")).to_have_text("1")
    shoot(page, "delivery-report")
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    row = page.locator(f'#campaign-deliveries tr[data-delivery="{delivery.pk}"]')
    expect(row).to_contain_text("18")
    expect(row.locator("td").nth(8)).to_contain_text("8")
    shoot(page, "campaign-deliveries")
