"""The channel pages in a real Chromium: a delivery with its counts, exclusion reasons and
sandboxed samples, and the Outbox's message (its HTML in a sandboxed frame that runs no script).
Screenshots at 1280 and 1920 px go to test-artifacts/ for a person to look at."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.channels.conftest import shop  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, admin_user_password):
    username, password = admin_user_password
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(400)  # let the frames lay out again at this width
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


def test_a_delivery_page_and_the_outbox(live_server, page, admin_user_password, shop):  # noqa: F811
    from django.db import connection

    from audiences import populations
    from channels import services
    from channels.models import OutboxMessage

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE data_{shop.name} SET email = NULL WHERE customer_id = 'c001'")
    delivery = services.stage(
        population=populations.from_rule(schema=shop, where={"and": []}),
        channel="email",
        content={
            "subject": "Hello {{ profile.first_name }}",
            "html": "<html><head><style>h1 {color: #417690}</style></head><body><h1>Hi "
            "{{ profile.first_name }}</h1><p>Your store in {{ profile.store.city }} awaits.</p>"
            "</body></html>",
        },
        owner={"campaign_name": "Spring promo", "activity_key": "mail"},
        test=True,
    )
    message = OutboxMessage.objects.create(
        channel="email", to="ann@example.com", subject="Hi Ann",
        html="<h1 id='x'>Hi Ann</h1><script>document.getElementById('x').textContent='pwned'</script>",
    )  # fmt: skip
    login(page, live_server, admin_user_password)
    page.goto(f"{live_server.url}/admin/channels/delivery/{delivery.pk}/change/")
    expect(page.locator(".count-targeted")).to_have_text("20")
    expect(page.locator(".count-staged")).to_have_text("19")
    expect(page.get_by_text("No address", exact=True)).to_be_visible()
    frame = page.frame_locator(".delivery-sample iframe").first
    expect(frame.locator("h1")).to_have_text("Hi Ann2")
    shoot(page, "delivery")
    page.locator(".delivery-sample iframe").first.screenshot(path=str(ARTIFACTS / "sample.png"))
    page.goto(f"{live_server.url}/admin/channels/outboxmessage/{message.pk}/change/")
    outbox = page.frame_locator("iframe[sandbox]")
    expect(outbox.locator("h1")).to_have_text("Hi Ann")  # the script did not run
    shoot(page, "outbox")
    page.goto(f"{live_server.url}/admin/channels/delivery/")
    expect(page.locator(".delivery-progress").first).to_be_visible()
    shoot(page, "deliveries")
