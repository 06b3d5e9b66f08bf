"""A channel disabled automatically, in a real Chromium: the banner, the open alert, one-click re-enable."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from channels.models import Channel, ChannelKind
from deliveries.models import Alert, Delivery, DeliveryStatus
from events.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_banner_leads_to_the_channel_which_is_re_enabled_in_one_click(logged_in, live_server, screenshot):
    page = logged_in
    now = timezone.now()
    erp = Channel.objects.create(
        name="Shop ERP",
        kind=ChannelKind.POSTBACK,
        url="http://127.0.0.1:9/erp",
        active=False,
        disabled_at=now,
        disabled_reason="Every attempt in the last 120 h failed (at least 20); it has never succeeded. "
        "The last one: HTTP 503.",
    )
    event = Event.objects.create(
        type_id="order.completed", source="shop", occurred_at=now, payload={"order": {"id": 1}}
    )
    delivery = Delivery.objects.create(
        event=event, channel=erp, event_type_id="order.completed", source="shop", status=DeliveryStatus.FAILED
    )
    Alert.objects.create(channel=erp, raised_at=now).deliveries.add(delivery)

    # The dashboard: the banner above everything, the open alert
    page.goto(f"{live_server.url}/admin/")
    banner = page.locator("#disabled-channels-banner")
    expect(banner).to_contain_text("disabled automatically")
    expect(page.locator("#open-alerts")).to_contain_text("Shop ERP")
    screenshot(page, "disabled-banner", full_page=False)

    # The banner's link: the channel page says why, with the button
    banner.get_by_role("link", name="Shop ERP").click()
    expect(page.locator("#auto-disabled")).to_contain_text("HTTP 503")
    screenshot(page, "channel-disabled", full_page=False)
    page.click("#reenable-form input[type=submit]")

    # Re-enabled: the banner is gone, the recover link offered
    expect(page.locator("#recover-since-disabled")).to_be_visible()
    expect(page.locator("#disabled-channels-banner")).to_have_count(0)
    erp.refresh_from_db()
    assert erp.active and erp.reenabled_at is not None
