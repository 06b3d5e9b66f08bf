"""Staff flows of seed 004 in a real Chromium: switch an event on, attach / edit / delete a
channel, send a test event, retry a failed delivery from the order page."""

import re

import pytest
from playwright.sync_api import expect

from channels.models import Channel, ChannelKind, Subscription
from events.models import EventType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switch_an_event_on_then_attach_edit_and_delete_a_channel(logged_in, live_server, screenshot):
    page = logged_in
    EventType.objects.filter(key="refund.applied").update(enabled=False)
    Channel.objects.create(name="Accounting", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/acc")

    # Integrations > System notifications
    page.click("#nav-postbacks >> text=System notifications")
    expect(page.locator("h1")).to_have_text("System notifications")
    screenshot(page, "system-notifications", full_page=False)

    # switch Refund applied on: the page does not reload
    page.evaluate("window.__same_page = true")
    row = page.locator('tr[data-event-type="refund.applied"]')
    switch = row.get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert page.evaluate("window.__same_page") is True
    assert EventType.objects.get(key="refund.applied").enabled is True

    # click the event: its channels (none yet), then "Attach channel"
    row.get_by_role("link", name="Refund applied").click()
    expect(page.locator("#subscriptions")).to_contain_text("No channel is attached")
    page.click("#attach-channel")
    page.select_option("#id_channel", label="Accounting (Postback (signed HTTP POST))")
    page.uncheck("input[name=sources][value=admin]")
    page.check("input[name=sources][value=shop]")
    page.check("input[name=sources][value=funnel]")
    screenshot(page, "attach-channel")
    page.click("input[type=submit][value=Save]")

    expect(page.locator(".messagelist")).to_contain_text("was attached to Refund applied")
    subscription = Subscription.objects.get(event_type_id="refund.applied", channel__name="Accounting")
    assert subscription.sources == ["shop", "funnel"]
    sources = page.locator(f'tr[data-subscription="{subscription.pk}"] td.sources')
    expect(sources).to_have_text(re.compile(r"^\s*Shop\s+Funnel\s*$"))
    screenshot(page, "event-channels")

    # Edit: the sources become Admin and Shop
    page.locator(f'tr[data-subscription="{subscription.pk}"]').get_by_role("link", name="Edit").click()
    page.check("input[name=sources][value=admin]")
    page.uncheck("input[name=sources][value=funnel]")
    page.click("input[type=submit][value=Save]")
    expect(sources).to_have_text(re.compile(r"^\s*Admin\s+Shop\s*$"))
    subscription.refresh_from_db()
    assert subscription.sources == ["admin", "shop"]

    # Delete, after confirming
    page.locator(f'tr[data-subscription="{subscription.pk}"]').get_by_role("link", name="Delete").click()
    expect(page.locator("#content")).to_contain_text("Stop notifying Accounting of Refund applied")
    page.click("input[type=submit][value='Yes, remove it']")
    expect(page.locator(".messagelist")).to_contain_text("was removed from Refund applied")
    expect(page.locator(f'tr[data-subscription="{subscription.pk}"]')).to_have_count(0)
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


def test_create_a_channel_from_the_attach_form_and_come_back(logged_in, live_server):
    page = logged_in
    page.goto(f"{live_server.url}/admin/events/eventtype/customer.created/attach/")
    page.click("#create-channel")
    page.fill("#id_name", "CRM")
    page.fill("#id_url", "http://127.0.0.1:9/crm")
    page.click("input[name=_save]")

    # back on the attach form, with the new channel chosen
    expect(page.locator(".messagelist")).to_contain_text("Channel “CRM” was created.")
    channel = Channel.objects.get(name="CRM")
    expect(page.locator("#id_channel")).to_have_value(str(channel.pk))
    assert channel.kind == ChannelKind.POSTBACK


def test_send_a_test_event_and_see_its_outcome(logged_in, live_server, receiver, screenshot):
    page = logged_in
    channel = Channel.objects.create(name="Partner endpoint", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))

    page.goto(f"{live_server.url}/admin/channels/channel/")
    screenshot(page, "channels")
    page.get_by_role("link", name="Partner endpoint").click()
    page.click("#send-test-form input[type=submit]")

    expect(page.locator(".messagelist")).to_contain_text(re.compile(r"Test event delivered: HTTP 200 in \d+ ms"))
    expect(page.locator('#recent-tests tr[data-outcome="succeeded"]')).to_have_count(1)
    (request,) = receiver.on("/hook")
    assert request.json["eventType"] == "test"
    assert request.headers["webhook-signature"].startswith("v1,")
    screenshot(page, "channel")
    assert channel.secret not in page.content()


def test_pick_an_event_type_see_its_payload_and_send_it_as_a_test(logged_in, live_server, receiver):
    # given a channel, and order.completed switched on
    page = logged_in
    EventType.objects.filter(pk="order.completed").update(enabled=True)
    channel = Channel.objects.create(name="Partner endpoint", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))
    page.goto(f"{live_server.url}/admin/channels/channel/{channel.pk}/change/")
    preview = page.locator("#test-send-preview")
    expect(preview).to_contain_text('"eventType": "test"')

    # when staff pick order.completed, the preview follows the select
    page.select_option("#test-event-type", "order.completed")
    expect(preview).to_contain_text('"eventType": "order.completed"')
    expect(preview).to_contain_text('"id": "A-1001"')

    # and send it
    page.click("#send-test-form input[type=submit]")

    # then the receiver got that type with the example payload, and the page says so, the type still chosen
    expect(page.locator(".messagelist")).to_contain_text("(order.completed)")
    (request,) = receiver.on("/hook")
    assert request.json["eventType"] == "order.completed" and request.json["payload"]["order"]["id"] == "A-1001"
    expect(page.locator("#test-event-type")).to_have_value("order.completed")
    expect(page.locator('#recent-tests tr[data-outcome="succeeded"]')).to_have_count(1)


def test_retry_a_failed_delivery_from_the_order_page_and_see_the_new_attempt(
    logged_in, live_server, receiver, screenshot, monkeypatch
):
    from django_q.conf import Conf

    from deliveries.models import Delivery, DeliveryStatus
    from events.services import emit
    from tests.support.factories import postback_channel, subscribe
    from tests.support.receiver import Reply

    # django-q2 runs queued work in-process: emit's and the retry's dispatch happen at once
    monkeypatch.setattr(Conf, "SYNC", True)

    # given an order whose order.completed postback failed for good (410: no automatic retry)
    receiver.reply("/orders", Reply(status=410, body=b"gone"))
    subscribe(postback_channel(receiver.url("/orders"), name="Fulfilment"), "order.completed")
    emit("order.completed", source="shop", payload={"order": {"id": "A-1001"}}, order_ref="A-1001")
    delivery = Delivery.objects.get(event__order_ref="A-1001")
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 1

    # when staff find the order and press Retry, the receiver now answering 200
    receiver.reply("/orders", Reply(status=200))
    page = logged_in
    page.click("#nav-postbacks >> text=Orders")
    page.fill("#searchbar", "A-10")
    page.press("#searchbar", "Enter")
    screenshot(page, "orders")
    page.get_by_role("link", name="A-1001").click()
    row = page.locator(f'tr[data-delivery="{delivery.pk}"]')
    expect(row.locator("[data-attempt]")).to_have_count(1)
    screenshot(page, "order-timeline")
    row.get_by_role("button", name="Retry").click()

    # then the new, manual attempt appears and the delivery succeeded
    expect(page.locator(".messagelist")).to_contain_text("1 queued for retry.")
    expect(row.locator('[data-attempt="2"][data-trigger="manual"]')).to_contain_text("HTTP 200")
    expect(row).to_have_attribute("data-status", "succeeded")
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)
    assert len(receiver.on("/orders")) == 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_dashboard_and_delivery_log_pages(logged_in, live_server, receiver, screenshot, monkeypatch):
    from django_q.conf import Conf

    from events.services import emit
    from tests.support.factories import postback_channel, subscribe
    from tests.support.receiver import Reply

    monkeypatch.setattr(Conf, "SYNC", True)
    receiver.reply("/bad", Reply(status=404))
    good = postback_channel(receiver.url("/good"), name="Warehouse")
    bad = postback_channel(receiver.url("/bad"), name="Legacy CRM")
    for key in ("order.completed", "transaction.approved", "refund.applied"):
        subscribe(good, key)
        subscribe(bad, key)
    for i in range(4):
        emit("order.completed", source="shop", payload={"order": {"id": f"B-{i}"}}, order_ref=f"B-{i}")
        emit("transaction.approved", source="funnel", payload={"transaction": {"id": f"T-{i}"}}, order_ref=f"B-{i}")

    page = logged_in
    page.reload()
    expect(page.locator("#deliveries-chart rect.segment-succeeded")).to_have_count(1)
    expect(page.locator("#deliveries-chart rect.segment-failed")).to_have_count(1)
    expect(page.locator("#channel-success")).to_contain_text("Warehouse")
    expect(page.locator("#awaiting-human tbody tr")).to_have_count(8)
    screenshot(page, "dashboard")

    page.click("#nav-postbacks >> text=Deliveries")
    page.get_by_role("link", name="Failed", exact=True).click()
    expect(page.locator("#result_list tbody tr")).to_have_count(8)
    screenshot(page, "deliveries")
    page.locator("#result_list tbody tr").first.locator("th a").click()
    expect(page.locator("#content")).to_contain_text("HTTP")
    screenshot(page, "delivery")


@pytest.mark.integration
def test_retry_runs_on_a_real_qcluster_and_the_order_page_refreshes_until_it_is_done(logged_in, live_server, receiver):
    from deliveries.models import Delivery, DeliveryStatus, Trigger
    from events.services import emit
    from tests.support.factories import postback_channel, subscribe
    from tests.support.qcluster import QCluster
    from tests.support.receiver import Reply, wait_until

    # given a delivery that failed for good, and a real worker process
    receiver.reply("/orders", Reply(status=410, body=b"gone"))
    subscribe(postback_channel(receiver.url("/orders"), name="Fulfilment"), "order.completed")
    cluster = QCluster(workers=1)
    cluster.route_kicks_here()
    try:
        emit("order.completed", source="shop", payload={"order": {"id": "C-7"}}, order_ref="C-7")
        cluster.start()
        delivery = wait_until(
            lambda: Delivery.objects.filter(event__order_ref="C-7", status=DeliveryStatus.FAILED).first(),
            timeout=60,
            message="the first attempt to fail",
        )

        # when staff press Retry on the order's page (the receiver now answers 200)
        receiver.reply("/orders", Reply(status=200))
        page = logged_in
        page.goto(f"{live_server.url}/admin/events/order/?q=C-7")
        page.get_by_role("link", name="C-7").click()
        row = page.locator(f'tr[data-delivery="{delivery.pk}"]')
        row.get_by_role("button", name="Retry").click()

        # then the page, refreshing itself while the worker runs, shows the manual attempt
        expect(row.locator('[data-attempt="2"][data-trigger="manual"]')).to_contain_text("HTTP 200", timeout=60_000)
        expect(row).to_have_attribute("data-status", "succeeded")
        attempt = delivery.attempts.get(number=2)
        assert attempt.trigger == Trigger.MANUAL and attempt.triggered_by.username == "staffer"
    except Exception:
        print(cluster.log())
        raise
    finally:
        cluster.stop()
