"""Resend in the admin (SPEC section 10): from the event, delivery and order pages, behind deliveries.resend."""

import pytest
from django.urls import reverse

from channels.models import Channel, ChannelKind, Subscription
from deliveries.models import Delivery, DeliveryStatus, Trigger

pytestmark = pytest.mark.django_db

RESENDER = ("deliveries.view_delivery", "deliveries.resend", "events.view_event", "events.view_order")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: None)


@pytest.fixture
def failed(postback_channel, make_delivery):
    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    return make_delivery(channel=postback_channel, status=DeliveryStatus.FAILED, order_ref="A-7")


def resend_url(delivery):
    return reverse("admin:deliveries_delivery_resend", args=[delivery.event_id])


def test_event_delivery_and_order_pages_link_to_resend(make_staff, failed):
    client = make_staff(*RESENDER)
    pages = [
        reverse("admin:events_event_change", args=[failed.event_id]),
        reverse("admin:deliveries_delivery_change", args=[failed.pk]),
        reverse("admin:events_order_change", args=[_order_pk(failed)]),
    ]
    for page in pages:
        assert resend_url(failed) in client.get(page).content.decode(), page


def _order_pk(delivery):
    from events.models import Order

    return Order.objects.get(ref=delivery.event.order_ref).pk


def test_resend_to_an_attached_channel_queues_a_resend_delivery(make_staff, failed, postback_channel):
    answer = make_staff(*RESENDER).post(resend_url(failed), {"channel": postback_channel.pk})

    new = Delivery.objects.exclude(pk=failed.pk).get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{new.pk}/change/")
    assert new.pending_trigger == Trigger.RESEND and new.status == DeliveryStatus.PENDING


def test_resend_to_a_channel_not_attached_is_an_error_on_the_page(make_staff, failed):
    other = Channel.objects.create(name="Other", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/other")
    page = make_staff(*RESENDER).post(resend_url(failed), {"channel": other.pk})
    assert page.status_code == 200 and "not attached" in page.content.decode()
    assert Delivery.objects.count() == 1


def test_resend_with_no_channel_is_an_error_on_the_page(make_staff, failed):
    page = make_staff(*RESENDER).post(resend_url(failed), {"channel": "junk"})
    assert page.status_code == 200 and "Choose a channel" in page.content.decode()


def test_staff_without_the_resend_permission_get_403_and_no_link(make_staff, failed, postback_channel):
    client = make_staff("deliveries.view_delivery", "events.view_event")
    assert client.get(resend_url(failed)).status_code == 403
    assert client.post(resend_url(failed), {"channel": postback_channel.pk}).status_code == 403
    page = client.get(reverse("admin:deliveries_delivery_change", args=[failed.pk])).content.decode()
    assert resend_url(failed) not in page and Delivery.objects.count() == 1


def test_the_resend_form_is_csrf_protected(make_staff, failed, postback_channel):
    client = make_staff(*RESENDER, enforce_csrf_checks=True)
    assert client.post(resend_url(failed), {"channel": postback_channel.pk}).status_code == 403
    assert Delivery.objects.count() == 1
