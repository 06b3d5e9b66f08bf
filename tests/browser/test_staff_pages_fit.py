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


def every_admin_page() -> dict:
    """Every changelist of the admin, and one change page per model that has a row (the first by pk).

    From ``admin.site._registry``: a model registered later is covered without touching this test.
    """
    from django.contrib import admin
    from django.contrib.admin.utils import quote

    pages = {}
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        pages[f"{opts.label} list"] = reverse(f"admin:{name}_changelist")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages[f"{opts.label} page"] = reverse(f"admin:{name}_change", args=[quote(first.pk)])
    return pages


@pytest.fixture
def every_model_has_a_row(log, staff):
    """A row in the tables the log leaves empty: a group, a token, a demo receipt, the task queue's tables."""
    from django.contrib.auth.models import Group
    from django_q.models import Failure, Schedule, Success
    from rest_framework.authtoken.models import Token

    from deliveries.models import DemoReceipt

    Group.objects.create(name="Postback operators of the Northern European subsidiary")
    Token.objects.create(user=staff)
    DemoReceipt.objects.create(
        webhook_id="f47ac10b-58cc-4372-a567-0e02b2c3d479",
        event_type="order.completed",
        headers={"webhook-id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "content-type": "application/json"},
        body='{"eventType":"order.completed","payload":{"order":{"id":"ORDER-2026-0001-NORTHERN-EUROPE"}}}' * 5,
    )
    Schedule.objects.get_or_create(
        name="deliveries.sweep (every minute, the sweeper of expired leases)",
        defaults={"func": "deliveries.tasks.sweep", "schedule_type": Schedule.MINUTES, "minutes": 1},
    )
    now = timezone.now()
    for model, success in ((Success, True), (Failure, False)):
        model.objects.create(
            id=f"{'a' if success else 'b'}" * 32,
            name="deliveries.tasks.dispatch-northern-european-subsidiary-production",
            func="deliveries.tasks.dispatch",
            args=None,
            kwargs=None,
            result="Traceback (most recent call last): ConnectionError: _AttemptPool(host=...) " * 5,
            started=now,
            stopped=now,
            success=success,
        )
    return log


@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_on_any_admin_page_overflows_its_box(logged_in, live_server, every_model_has_a_row, width):
    page = logged_in
    page.set_viewport_size({"width": width, "height": 900})
    overflowing = {}
    pages = every_admin_page()
    # every list, and a page for nearly every model (with the Redis broker the ORM task queue has no row)
    assert len(pages) >= 2 * 15 - 1, sorted(pages)
    for name, url in pages.items():
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, (name, url, response.status)
        found = page.evaluate(OVERFLOWING_TABLES)
        if found:
            overflowing[name] = found
    assert overflowing == {}, "\n".join(f"{name}: {found}" for name, found in overflowing.items())


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
    assert overflowing == {}, "\n".join(f"{name}: {found}" for name, found in overflowing.items())


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
