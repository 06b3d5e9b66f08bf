"""Test sends of any event type (issue 13): the channel's format decides which types, and a test send,
marked ``is_test``, stays out of everything that is about the shop's real traffic."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from channels.models import Channel, ChannelKind
from deliveries.alerting.alerts import raise_alerts
from deliveries.alerting.auto_disable import failing_streak_reason
from deliveries.engine.refusals import TEST_SEND_NOT_RETRIED, retry_refusal_reason
from deliveries.models import Attempt, Delivery, DeliveryStatus
from deliveries.recovery import recoverable, resend_event
from deliveries.selectors import channel_health, failed_awaiting_human, order_timeline, recent_tests_of
from deliveries.services import preview_test_send, send_test_event, types_for_test_send
from events.models import EventType, Order
from tests.engine.helpers import emit_and_deliver
from tests.support.factories import enable, postback_channel, subscribe, user_with
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db

SENDER = ("channels.view_channel", "channels.send_test_event")


@pytest.fixture
def sender():
    return user_with(*SENDER)


def test_a_test_send_of_an_enabled_type_carries_its_example_payload_and_is_marked(receiver, sender):
    # given a postback channel and order.completed switched on
    channel = postback_channel(receiver.url("/hook"))
    order_completed = enable("order.completed")

    # when staff send a test of that type
    attempt = send_test_event(channel=channel, user=sender, event_type_key="order.completed")

    # then the receiver gets order.completed with the catalogue's example payload, signed as ever
    [request] = receiver.requests
    body = Webhook(channel.secret).verify(request.body, request.headers)
    assert body["eventType"] == "order.completed" and body["source"] == "admin"
    assert body["payload"] == order_completed.example_payload and body["payload"]
    # and the delivery is a test send of that type, in no order
    delivery = attempt.delivery
    assert delivery.is_test and delivery.event_type_id == "order.completed" and attempt.trigger == "test"
    assert delivery.event.order_ref == "" and not Order.objects.exists()
    assert list(recent_tests_of(channel=channel)) == [attempt]


def test_without_a_type_the_test_type_is_sent_marked_as_a_test(receiver, sender):
    channel = postback_channel(receiver.url("/hook"))

    attempt = send_test_event(channel=channel, user=sender)

    assert receiver.requests[0].json["eventType"] == "test"
    assert attempt.delivery.is_test and attempt.delivery.event_type_id == "test"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("no.such.type", "Unknown event type no.such.type."),
        ("order.completed", "The event type order.completed is switched off; switch it on first."),
    ],
)
def test_an_unknown_or_switched_off_type_is_refused_naming_the_field_and_nothing_is_sent(
    receiver, sender, key, message
):
    channel = postback_channel(receiver.url("/hook"))
    enable("order.completed", enabled=False)

    with pytest.raises(ValidationError) as refused:
        send_test_event(channel=channel, user=sender, event_type_key=key)

    assert refused.value.message_dict == {"event_type": [message]}
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_a_flat_channel_offers_and_sends_only_the_types_its_format_names(receiver, sender):
    # given a flat-format channel and three types switched on, one the flat format has no name for
    channel = postback_channel(receiver.url("/hook"), format="flat")
    for key in ("order.completed", "document.status_changed", "invoice.status_changed"):
        enable(key)

    # then it offers the test type and the two document types only
    assert [t.key for t in types_for_test_send(channel=channel)] == [
        "test",
        *[k for k in EventType.objects.order_by("position").values_list("key", flat=True) if k.endswith("_changed")],
    ]
    # and refuses order.completed, saying why
    with pytest.raises(ValidationError) as refused:
        send_test_event(channel=channel, user=sender, event_type_key="order.completed")
    assert "has no name in the flat format" in refused.value.message_dict["event_type"][0]
    # while a document type goes out under the format's own name, its fields at the top level
    send_test_event(channel=channel, user=sender, event_type_key="document.status_changed")
    [request] = receiver.requests
    assert request.json["eventType"] == "DOCUMENT_STATUS_CHANGED" and "payload" not in request.json


def test_a_postback_only_type_is_not_offered_to_an_email_channel(sender):
    channel = Channel.objects.create(name="Sales", kind=ChannelKind.EMAIL, email_to="sales@example.com")
    enable("customer.created")  # postback only
    enable("order.completed")

    offered = [t.key for t in types_for_test_send(channel=channel)]
    assert "order.completed" in offered and "customer.created" not in offered
    with pytest.raises(ValidationError) as refused:
        send_test_event(channel=channel, user=sender, event_type_key="customer.created")
    assert refused.value.message_dict == {
        "event_type": ["The event type customer.created is sent to postback channels only."]
    }


def test_the_preview_is_the_body_that_is_sent_but_for_the_new_id_and_time(receiver, sender):
    channel = postback_channel(receiver.url("/hook"), format="fakturia")
    event_type = enable("customer.created")

    preview = json.loads(preview_test_send(channel=channel, event_type=event_type, user=sender))
    send_test_event(channel=channel, user=sender, event_type_key="customer.created")

    sent = receiver.requests[0].json
    assert sent["eventType"] == "CUSTOMER_CREATED" and sent["triggerUser"] == "staff"
    assert {k: v for k, v in preview.items() if k != "triggerDate"} == {
        k: v for k, v in sent.items() if k != "triggerDate"
    }


# --- kept out of what is about real traffic -------------------------------------------


@pytest.fixture
def failed_test_of_order_completed(receiver, sender):
    """A failed (404) test send of order.completed (critical, manually retryable) to a channel attached to it."""
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "order.completed")
    receiver.reply("/hook", Reply(status=404))
    attempt = send_test_event(channel=channel, user=sender, event_type_key="order.completed")
    assert attempt.delivery.status == DeliveryStatus.FAILED
    return attempt.delivery


def test_a_failed_test_send_is_not_retried_resent_or_recovered(failed_test_of_order_completed):
    delivery = failed_test_of_order_completed
    staff = user_with("deliveries.view_delivery", "deliveries.retry_delivery", "deliveries.resend", username="ops")

    assert retry_refusal_reason(delivery=delivery, user=staff) == TEST_SEND_NOT_RETRIED
    with pytest.raises(ValidationError) as refused:
        resend_event(actor=staff, event=delivery.event, channel=delivery.channel)
    assert refused.value.message_dict == {"event": [TEST_SEND_NOT_RETRIED]}
    since = timezone.now() - dt.timedelta(hours=1)
    assert not recoverable(channel=delivery.channel, since=since).exists()


def test_a_test_send_counts_in_no_success_rate_and_no_failure_list(failed_test_of_order_completed):
    delivery = failed_test_of_order_completed

    example_order = delivery.event.payload["order"]["id"]  # the catalogue example's order, A-1001

    assert channel_health(channel_ids=[delivery.channel_id]) == {}
    assert list(failed_awaiting_human()) == []
    assert order_timeline(order_ref=example_order) == []

    # and a real failure of the same type, for the same order, does count (the checks can fail)
    emit_and_deliver("order.completed", payload=delivery.event.payload, order_ref=example_order)
    assert channel_health(channel_ids=[delivery.channel_id])[delivery.channel_id].failed == 1
    assert len(failed_awaiting_human()) == 1
    [entry] = order_timeline(order_ref=example_order)
    assert not entry.deliveries[0].is_test


def test_a_failed_test_send_of_a_critical_type_raises_no_alert(failed_test_of_order_completed):
    later = timezone.now() + dt.timedelta(hours=1)

    assert raise_alerts(now=later) == []

    # a real overdue failure of the same type on the same channel does
    emit_and_deliver("order.completed", payload={"order": {"id": "A-1"}}, order_ref="A-1")
    assert len(raise_alerts(now=later)) == 1


def test_a_successful_test_send_does_not_stop_auto_disable(receiver, sender, settings):
    # given a channel whose real deliveries have all failed, one before the window and one in it
    settings.WEBHOOKS_DISABLE_MIN_ATTEMPTS = 1
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "order.completed")
    receiver.reply("/hook", Reply(status=404))  # not retried: one attempt each
    emit_and_deliver("order.completed", payload={"order": {"id": "A-1"}})
    emit_and_deliver("order.completed", payload={"order": {"id": "A-2"}})
    window_start = timezone.now() - dt.timedelta(minutes=5)
    first = Attempt.objects.order_by("pk").first()
    Attempt.objects.filter(pk=first.pk).update(started_at=window_start - dt.timedelta(hours=1))
    # when a test send succeeds in the window
    receiver.reply("/hook", Reply(status=200))
    assert send_test_event(channel=channel, user=sender, event_type_key="order.completed").succeeded

    # then the streak still counts: the last attempt it names is the real 404
    reason = failing_streak_reason(channel_id=channel.pk, window_start=window_start)
    assert reason is not None and "HTTP 404" in reason
