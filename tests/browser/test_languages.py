"""German in a real Chromium: the header's language switch, and seed 004's flow with a German browser."""

import pytest
from playwright.sync_api import expect

from channels.models import Channel, ChannelKind, Subscription
from events.models import EventType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def german_page(browser):
    """A browser whose user prefers German (Accept-Language: de-DE)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="de-DE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "staffer")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_the_header_switch_changes_the_language_and_keeps_the_page(logged_in, live_server, screenshot):
    page = logged_in
    page.click("#nav-postbacks >> text=System notifications")
    expect(page.locator("h1")).to_have_text("System notifications")

    page.locator("#language-switch").get_by_role("button", name="Deutsch").click()

    expect(page.locator("h1")).to_have_text("Systembenachrichtigungen")
    assert page.url == f"{live_server.url}/admin/events/eventtype/"
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#nav-postbacks")).to_contain_text("Übersicht")
    expect(page.locator('tr[data-event-type="customer.created"] th a')).to_have_text("Kunde angelegt")
    screenshot(page, "system-notifications-de", full_page=False)

    # the choice is kept from page to page, and switching back works the same way
    page.click("#nav-postbacks >> text=Bestellungen")
    expect(page.locator("h1")).to_have_text("Bestellungen")
    page.locator("#language-switch").get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Orders")


def test_seed_004s_flow_in_german(german_page, live_server, staff, receiver, screenshot, monkeypatch):
    from django_q.conf import Conf

    from deliveries.models import Delivery, DeliveryStatus
    from events.services import emit
    from tests.support.factories import postback_channel, subscribe
    from tests.support.receiver import Reply

    page = german_page
    EventType.objects.filter(key="refund.applied").update(enabled=False)
    Channel.objects.create(name="Buchhaltung", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/acc")
    log_in(page, live_server)
    expect(page.locator("h1")).to_have_text("Übersicht")

    # Postbacks > Systembenachrichtigungen: find the event with the search box, switch it on
    page.click("#nav-postbacks >> text=Systembenachrichtigungen")
    page.fill("#catalogue-q", "Erstattung")
    page.press("#catalogue-q", "Enter")
    row = page.locator('tr[data-event-type="refund.applied"]')
    expect(row.locator("th a")).to_have_text("Erstattung durchgeführt")
    switch = row.get_by_role("switch")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(row.locator(".switch-label")).to_have_text("Ein")
    assert EventType.objects.get(key="refund.applied").enabled is True

    # its page, "Kanal zuordnen", sources, save
    row.get_by_role("link", name="Erstattung durchgeführt").click()
    expect(page.locator("#subscriptions")).to_contain_text("Diesem Ereignis ist noch kein Kanal zugeordnet.")
    page.click("#attach-channel")
    page.select_option("#id_channel", label="Buchhaltung (Postback (signierter HTTP-POST))")
    page.uncheck("input[name=sources][value=admin]")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("wurde Erstattung durchgeführt zugeordnet")
    subscription = Subscription.objects.get(event_type_id="refund.applied", channel__name="Buchhaltung")
    assert subscription.sources == ["shop", "funnel"]
    screenshot(page, "event-channels-de")

    # edit the sources, then delete after confirming
    page.locator(f'tr[data-subscription="{subscription.pk}"]').get_by_role("link", name="Bearbeiten").click()
    page.check("input[name=sources][value=admin]")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("wurden aktualisiert")
    page.locator(f'tr[data-subscription="{subscription.pk}"]').get_by_role("link", name="Löschen").click()
    expect(page.locator("#content")).to_contain_text("Buchhaltung nicht mehr über Erstattung durchgeführt")
    page.click("input[type=submit][value='Ja, entfernen']")
    expect(page.locator(".messagelist")).to_contain_text("wurde von Erstattung durchgeführt entfernt")
    assert not Subscription.objects.filter(pk=subscription.pk).exists()

    # an order whose postback failed for good: Retry ("Wiederholen") from the order's page
    monkeypatch.setattr(Conf, "SYNC", True)
    receiver.reply("/orders", Reply(status=410, body=b"gone"))
    subscribe(postback_channel(receiver.url("/orders"), name="Fulfilment"), "order.completed")
    emit("order.completed", source="shop", payload={"order": {"id": "A-2001"}}, order_ref="A-2001")
    delivery = Delivery.objects.get(event__order_ref="A-2001")
    receiver.reply("/orders", Reply(status=200))
    page.click("#nav-postbacks >> text=Bestellungen")
    page.get_by_role("link", name="A-2001").click()
    expect(page.locator(".timeline h3")).to_contain_text("Bestellung abgeschlossen")
    row = page.locator(f'tr[data-delivery="{delivery.pk}"]')
    row.get_by_role("button", name="Wiederholen").click()
    expect(row).to_have_attribute("data-status", "succeeded")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    screenshot(page, "order-timeline-de")
