"""The main staff pages in a real Chromium (issue 13 part B): no table overflows its box at 1024 px or
1440 px, and axe-core finds no serious or critical accessibility violation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import Channel, ChannelKind, Subscription
from deliveries.models import Attempt, ChannelBreaker, Delivery, DeliveryStatus, ErrorKind, Trigger
from events.models import Event, EventType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1024, 1440)
# Each table whose content is wider than its box, with both widths (0 when none).
OVERFLOWING_TABLES = """() => Array.from(document.querySelectorAll('table')).filter(t => t.offsetParent !== null).map(t => {
  const box = t.parentElement;
  return {id: t.id || t.className || box.id || box.className, table: t.scrollWidth, own: t.clientWidth,
          box: box.clientWidth, boxScroll: box.scrollWidth};
}).filter(r => r.table > r.own + 1 || r.table > r.box + 1 || r.boxScroll > r.box + 1)"""


@pytest.fixture
def log(staff):
    """A log with what makes tables wide: long names, long reasons, retries waiting, a cooling channel."""
    long_channel = Channel.objects.create(
        name="Accounting system of the Northern European subsidiary (production)",
        kind=ChannelKind.POSTBACK,
        url="https://accounting.example.com/api/v2/webhooks/postbacks/incoming?tenant=northern-europe-production",
        headers={"X-Api-Key": "abc"},
    )
    mail = Channel.objects.create(name="Sales inbox", kind=ChannelKind.EMAIL, email_to="sales@example.com")
    ChannelBreaker.objects.create(
        channel=long_channel, state="open", consecutive_failures=5, open_until=timezone.now() + timedelta(minutes=5)
    )
    Subscription.objects.create(event_type_id="order.completed", channel=long_channel)
    now = timezone.now()
    made = []
    for i, (status, error, http_status) in enumerate(
        [
            (DeliveryStatus.FAILED, ErrorKind.HTTP_STATUS, 404),
            (DeliveryStatus.PENDING, ErrorKind.CONNECTION, None),
            (DeliveryStatus.SUCCEEDED, "", 200),
            (DeliveryStatus.FAILED, ErrorKind.TIMEOUT, None),
            (DeliveryStatus.PENDING, "", None),
        ]
        * 4
    ):
        channel = long_channel if i % 3 else mail
        event_type = EventType.objects.get(key="transaction.declined" if i % 2 else "order.completed")
        event = Event.objects.create(
            type=event_type,
            source="shop",
            occurred_at=now,
            payload={"order": {"id": f"ORDER-2026-000{i}-NORTHERN-EUROPE"}},
            order_ref=f"ORDER-2026-000{i}-NORTHERN-EUROPE",
        )
        delivery = Delivery.objects.create(
            event=event,
            channel=channel,
            event_type=event_type,
            source="shop",
            status=status,
            attempt_count=0 if not error and status == DeliveryStatus.PENDING else 2,
            automatic_attempts=2,
            next_attempt_at=now + timedelta(minutes=9) if status == DeliveryStatus.PENDING else None,
            last_error=error,
            last_response_status=http_status,
            failure_reason="ConnectionError: _AttemptPool(host='accounting.example.com', port=443): Max retries exceeded",
        )
        Attempt.objects.create(
            delivery=delivery,
            number=1,
            trigger=Trigger.AUTOMATIC,
            started_at=now,
            finished_at=now,
            duration_ms=1234,
            request_url=channel.url,
            request_headers={"webhook-id": str(event.id), "content-type": "application/json"},
            response_status=http_status,
            response_headers={"Content-Type": "text/html"},
            response_body="<html><body>" + "Not found " * 200 + "</body></html>",
            error=error,
            error_detail="ConnectionError: _AttemptPool(host='accounting.example.com', port=443): Max retries exceeded"
            if error
            else "",
        )
        made.append(delivery)
    return {"channel": long_channel, "delivery": made[0]}


def main_pages(log):
    return {
        "dashboard": reverse("admin:index"),
        "delivery list": reverse("admin:deliveries_delivery_changelist"),
        "delivery page": reverse("admin:deliveries_delivery_change", args=[log["delivery"].pk]),
        "channel list": reverse("admin:channels_channel_changelist"),
        "channel page": reverse("admin:channels_channel_change", args=[log["channel"].pk]),
        "orders": reverse("admin:events_order_changelist"),
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_overflows_its_box(logged_in, live_server, log, width, screenshot):
    page = logged_in
    page.set_viewport_size({"width": width, "height": 900})
    overflowing = {}
    for name, url in main_pages(log).items():
        page.goto(f"{live_server.url}{url}")
        found = page.evaluate(OVERFLOWING_TABLES)
        if found:
            overflowing[name] = found
        if name in ("delivery list", "delivery page", "channel page"):
            screenshot(page, f"{name.replace(' ', '-')}-{width}")
    assert overflowing == {}


def test_axe_finds_no_serious_or_critical_violation(logged_in, live_server, log):
    from axe_playwright_python.sync_playwright import Axe

    page = logged_in
    axe = Axe()
    problems = {}
    for name, url in main_pages(log).items():
        page.goto(f"{live_server.url}{url}")
        results = axe.run(page)
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            problems[name] = serious
    assert problems == {}
