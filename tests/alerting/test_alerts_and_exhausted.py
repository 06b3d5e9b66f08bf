"""Undelivered alerts of critical types, and ``postbacks.delivery.exhausted`` (SPEC section 10)."""

import pytest
from django.core import mail

from deliveries.alerting.watch import run_checks
from deliveries.models import Alert, Delivery, DeliveryStatus
from deliveries.services import request_manual_retry
from events.catalogue.operations import ALERT_UNDELIVERED, DELIVERY_EXHAUSTED
from events.models import Event, EventType
from events.services import emit
from tests.alerting.conftest import move_back
from tests.engine.helpers import deliver_now
from tests.support.factories import postback_channel, subscribe, user_with
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(receiver, one_attempt_each):
    receiver.reply("/shop", Reply(500))
    channel = postback_channel(receiver.url("/shop"), name="Shop ERP")
    subscribe(channel, "order.completed")
    subscribe(channel, "contact.created")
    subscribe(channel, ALERT_UNDELIVERED)  # about itself: never sent there
    return channel


@pytest.fixture
def ops(receiver):
    channel = postback_channel(receiver.url("/ops"), name="Ops")
    subscribe(channel, ALERT_UNDELIVERED)
    return channel


@pytest.fixture
def staff(db):
    user = user_with(
        "channels.view_channel", "channels.change_channel", "deliveries.view_delivery", "deliveries.retry_delivery"
    )
    user.email = "ops@example.net"
    user.save()
    return user


def overdue(key="order.completed", *, minutes=20):
    event = emit(key, source="shop", payload={"order": {"id": "A-1"}} if key == "order.completed" else {"x": 1})
    deliver_now()
    move_back(Delivery.objects.filter(event=event), "created_at", minutes=minutes)
    return Delivery.objects.get(event=event, channel__name="Shop ERP")


def test_the_four_money_events_are_critical_by_default():
    critical = set(EventType.objects.filter(critical=True).values_list("key", flat=True))
    assert critical == {"order.completed", "transaction.approved", "transaction.declined", "refund.applied"}


def test_a_critical_delivery_undelivered_15_minutes_raises_one_alert_shown_mailed_and_announced(
    shop, ops, staff, receiver, django_capture_on_commit_callbacks
):
    # Given a failed order.completed delivery 20 minutes old, and one only 5 minutes old
    late = overdue(minutes=20)
    recent = overdue(minutes=5)
    assert late.status == DeliveryStatus.FAILED

    # When the watch job runs
    with django_capture_on_commit_callbacks(execute=True):
        done = run_checks()

    # Then one alert is open on the channel, for the late delivery only
    assert done["alerts_raised"] == 1
    alert = Alert.objects.get()
    assert alert.channel == shop and alert.is_open
    assert list(alert.deliveries.all()) == [late]
    # and it was e-mailed and announced, to the ops channel, not to the channel it is about
    [message] = mail.outbox
    assert message.to == ["ops@example.net"] and "Shop ERP" in message.subject and f"#{late.pk}" in message.body
    deliver_now()
    [announcement] = receiver.on("/ops")
    assert announcement.json["eventType"] == ALERT_UNDELIVERED
    assert announcement.json["payload"]["deliveries"][0]["id"] == late.pk
    assert all(r.json["eventType"] == "order.completed" for r in receiver.on("/shop"))

    # When the recent one is overdue too, it joins the open alert: no second alert, no second e-mail
    move_back(Delivery.objects.filter(pk=recent.pk), "created_at", minutes=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_checks()["alerts_raised"] == 0
    assert Alert.objects.count() == 1 and alert.deliveries.count() == 2 and len(mail.outbox) == 1


def test_an_alert_clears_when_its_deliveries_succeed_and_the_next_waits_an_hour(shop, staff, receiver):
    late = overdue(minutes=20)
    run_checks()
    alert = Alert.objects.get()

    # When the endpoint is back and the delivery is retried by hand, successfully
    receiver.reply("/shop", Reply(200))
    request_manual_retry(delivery=late, user=staff)
    deliver_now()
    late.refresh_from_db()
    assert late.status == DeliveryStatus.SUCCEEDED

    # Then the next run clears the alert
    assert run_checks()["alerts_cleared"] == 1
    alert.refresh_from_db()
    assert not alert.is_open

    # and another overdue delivery within the hour raises no new alert
    receiver.reply("/shop", Reply(500))
    overdue(minutes=20)
    assert run_checks()["alerts_raised"] == 0
    assert Alert.objects.count() == 1
    # but an hour later it does
    move_back(Alert.objects.all(), "raised_at", minutes=61)
    assert run_checks()["alerts_raised"] == 1


def test_a_delivery_of_a_type_that_is_not_critical_raises_no_alert(shop, staff):
    overdue("contact.created", minutes=60)
    assert run_checks()["alerts_raised"] == 0
    EventType.objects.filter(pk="contact.created").update(critical=True)
    assert run_checks()["alerts_raised"] == 1


@pytest.fixture
def exhausting(settings, receiver):
    """Two attempts per delivery (one automatic retry, at once); the shop endpoint always fails."""
    settings.WEBHOOKS_MAX_RETRIES = 1
    settings.WEBHOOKS_RETRY_DELAYS = [0]
    receiver.reply("/shop", Reply(503))
    shop = postback_channel(receiver.url("/shop"), name="Shop ERP")
    subscribe(shop, "contact.created")
    subscribe(shop, DELIVERY_EXHAUSTED)
    ops = postback_channel(receiver.url("/ops"), name="Ops")
    subscribe(ops, DELIVERY_EXHAUSTED)
    return shop, ops


def deliver_until_done():
    for _ in range(5):
        deliver_now()
        if not Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).exists():
            return
    raise AssertionError("deliveries still pending")


def test_a_delivery_that_spent_its_retries_is_announced_once_never_to_its_channel_and_never_in_a_loop(
    exhausting, receiver
):
    shop, ops = exhausting
    # Given a delivery that failed after its automatic retry, and one that failed at once (a 400: not retried)
    emit("contact.created", source="shop", payload={"contact": {"id": 1}})
    deliver_until_done()
    receiver.reply("/shop", Reply(400))
    emit("contact.created", source="shop", payload={"contact": {"id": 2}})
    deliver_until_done()
    exhausted, refused = Delivery.objects.filter(channel=shop).order_by("pk")
    assert (exhausted.status, exhausted.attempt_count, refused.status, refused.attempt_count) == (
        "failed",
        2,
        "failed",
        1,
    )

    # When the watch job runs (twice)
    assert run_checks()["exhausted"] == 1
    assert run_checks()["exhausted"] == 0

    # Then the ops channel hears of the exhausted one only, the shop channel not at all
    deliver_until_done()
    [announcement] = receiver.on("/ops")
    assert announcement.json["eventType"] == DELIVERY_EXHAUSTED
    assert announcement.json["payload"]["delivery"]["id"] == exhausted.pk
    assert announcement.json["payload"]["event"]["type"] == "contact.created"
    assert [r.json["eventType"] for r in receiver.on("/shop")] == ["contact.created"] * 3

    # When the ops channel fails too, the exhausted delivery of the announcement announces nothing
    receiver.reply("/ops", Reply(503))
    receiver.reply("/shop", Reply(503))
    emit("contact.created", source="shop", payload={"contact": {"id": 3}})
    deliver_until_done()
    assert run_checks()["exhausted"] == 1
    deliver_until_done()
    second = Delivery.objects.get(channel=ops, status=DeliveryStatus.FAILED)
    assert second.automatic_attempts == 2
    assert run_checks()["exhausted"] == 0
    assert run_checks()["exhausted"] == 0
    assert Event.objects.filter(type=DELIVERY_EXHAUSTED).count() == 2


def test_an_alert_also_clears_when_a_later_delivery_of_the_same_event_succeeded(shop, staff):
    # Given an open alert for a failed delivery
    late = overdue(minutes=20)
    run_checks()
    assert run_checks()["alerts_cleared"] == 0

    # When the event is sent again to the channel as a new delivery (a resend) that succeeds
    Delivery.objects.create(
        event=late.event,
        channel=shop,
        event_type_id=late.event_type_id,
        source=late.source,
        status=DeliveryStatus.SUCCEEDED,
    )

    # Then the alert clears, though the first delivery stays failed
    assert run_checks()["alerts_cleared"] == 1
    assert not Alert.objects.get().is_open
    late.refresh_from_db()
    assert late.status == DeliveryStatus.FAILED
