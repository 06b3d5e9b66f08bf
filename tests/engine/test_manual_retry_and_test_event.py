"""Manual retry and the test event (SPEC section 4)."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from standardwebhooks.webhooks import Webhook

from channels.models import Channel, ChannelKind
from deliveries.engine.refusals import retry_refusal_reason
from deliveries.exceptions import RetryRefused
from deliveries.models import Attempt, Delivery, DeliveryStatus
from deliveries.services import request_manual_retry, send_test_event
from tests.engine.helpers import deliver_now, emit_and_deliver
from tests.support.factories import postback_channel, subscribe, user_with
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db

ORDER = {"order": {"id": "A-1"}}


@pytest.fixture
def failed_order_delivery(receiver):
    """An order.completed delivery (manual retry allowed) that failed with a 404."""
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "order.completed")
    receiver.reply("/hook", Reply(status=404))
    emit_and_deliver("order.completed", payload=ORDER, order_ref="A-1")
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    return delivery


def test_staff_with_permission_may_retry_a_failed_delivery_of_a_manual_retry_type(failed_order_delivery):
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")

    assert retry_refusal_reason(delivery=failed_order_delivery, user=user) is None


def test_manual_retry_makes_one_attempt_recorded_with_the_user_and_succeeds(
    receiver, failed_order_delivery, kicks, django_capture_on_commit_callbacks
):
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")
    receiver.reply("/hook", Reply(status=200))

    with django_capture_on_commit_callbacks(execute=True):
        delivery = request_manual_retry(delivery=failed_order_delivery, user=user)
    assert delivery.status == DeliveryStatus.PENDING and delivery.pending_trigger == "manual"
    assert delivery.requested_by == user and kicks == [1]
    deliver_now()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 2
    attempt = Attempt.objects.get(number=2)
    assert attempt.trigger == "manual" and attempt.triggered_by == user
    assert receiver.requests[-1].json["retryCount"] == 1


def test_a_failed_manual_retry_schedules_no_automatic_retries(receiver, failed_order_delivery, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [0]
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")
    receiver.reply("/hook", Reply(status=503))  # retryable, but not after a manual retry

    request_manual_retry(delivery=failed_order_delivery, user=user)
    deliver_now()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 2
    assert "manual retry" in delivery.failure_reason
    assert len(receiver.requests) == 2


def test_without_the_retry_permission_the_retry_is_refused(failed_order_delivery):
    user = user_with()  # staff, no permission

    assert "permission" in retry_refusal_reason(delivery=failed_order_delivery, user=user)
    # A permission refusal, like every service's (common.permissions): 403 in the admin and the API.
    with pytest.raises(PermissionDenied, match="permission"):
        request_manual_retry(delivery=failed_order_delivery, user=user)
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


def test_a_type_without_manual_retry_is_refused_with_a_clear_message(receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    receiver.reply("/hook", Reply(status=404))
    emit_and_deliver()
    delivery = Delivery.objects.get()
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")

    with pytest.raises(RetryRefused, match="contact.created cannot be retried by hand"):
        request_manual_retry(delivery=delivery, user=user)


def test_a_delivery_that_is_not_failed_is_refused(receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "order.completed")
    emit_and_deliver("order.completed", payload=ORDER)
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")

    reason = retry_refusal_reason(delivery=Delivery.objects.get(), user=user)

    assert "Only failed deliveries" in reason and "succeeded" in reason


def test_two_retry_requests_for_one_failure_queue_one_attempt(failed_order_delivery):
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")
    stale = Delivery.objects.get(pk=failed_order_delivery.pk)
    request_manual_retry(delivery=failed_order_delivery, user=user)

    with pytest.raises(RetryRefused):
        request_manual_retry(delivery=stale, user=user)  # the second click, with the page's stale copy


def test_an_inactive_channel_is_refused(failed_order_delivery):
    Channel.objects.update(active=False)
    user = user_with("deliveries.view_delivery", "deliveries.retry_delivery")

    assert "inactive" in retry_refusal_reason(delivery=Delivery.objects.get(), user=user)


# --- test event ---------------------------------------------------------------------


def test_test_event_is_sent_at_once_and_returns_the_attempt(receiver):
    channel = postback_channel(receiver.url("/hook"))
    user = user_with("channels.view_channel", "channels.send_test_event")

    attempt = send_test_event(channel=channel, user=user)

    assert attempt.pk and attempt.trigger == "test" and attempt.response_status == 200 and attempt.error == ""
    [request] = receiver.requests
    body = Webhook(channel.secret).verify(request.body, request.headers)
    assert body["eventType"] == "test" and body["source"] == "admin" and body["webhookConfig"] is None
    assert body["payload"] == {"dummyData": {"message": "This is a test postback.", "id": 1, "ok": True}}
    assert body["triggerUser"] == "staff"
    delivery = attempt.delivery
    assert delivery.subscription is None and delivery.status == DeliveryStatus.SUCCEEDED


def test_test_event_to_a_failing_endpoint_reports_the_failure_without_retrying(receiver, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [0]
    channel = postback_channel(receiver.url("/hook"))
    receiver.reply("/hook", Reply(status=500, body=b"boom"))

    attempt = send_test_event(channel=channel)

    assert attempt.response_status == 500 and attempt.error == "http_status" and attempt.response_body == "boom"
    deliver_now()
    assert len(receiver.requests) == 1
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


# --- email and Slack channels ------------------------------------------------------------


def test_email_channel_sends_a_mail_through_djangos_backend():
    channel = Channel.objects.create(
        name="Sales", kind=ChannelKind.EMAIL, email_to="sales@example.com, ops@example.com"
    )
    subscribe(channel, "order.completed")

    emit_and_deliver("order.completed", payload={"order": {"id": "A-77"}})

    [message] = mail.outbox
    assert message.to == ["sales@example.com", "ops@example.com"]
    assert "order.completed" in message.subject and "A-77" in message.body
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert Attempt.objects.get().request_url == "mailto:sales@example.com,ops@example.com"


def test_email_failure_is_retried_like_a_connection_error(settings):
    settings.WEBHOOKS_RETRY_DELAYS = [60]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    channel = Channel.objects.create(name="Sales", kind=ChannelKind.EMAIL, email_to="sales@example.com")
    subscribe(channel, "order.completed")

    emit_and_deliver("order.completed", payload=ORDER)

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == "email"


def test_slack_channel_posts_a_text_summary(receiver):
    channel = Channel.objects.create(name="Chat", kind=ChannelKind.SLACK, url=receiver.url("/slack"))
    subscribe(channel, "contact.created")

    emit_and_deliver(payload={"contact": {"email": "lead@example.net"}})

    [request] = receiver.requests
    body = request.json
    assert set(body) == {"text"}
    assert "contact.created" in body["text"] and "lead@example.net" in body["text"]
    assert "webhook-signature" not in request.headers
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_slack_channel_follows_the_same_retry_rules(receiver, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [0]
    channel = Channel.objects.create(name="Chat", kind=ChannelKind.SLACK, url=receiver.url("/slack"))
    subscribe(channel, "contact.created")
    receiver.reply("/slack", Reply(status=503))

    emit_and_deliver()

    assert Delivery.objects.get().attempt_count == 4
