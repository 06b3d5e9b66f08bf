"""The postback: envelope, headers, signature, and the outcome table of SPEC section 4.

Every test posts to a real HTTP server on 127.0.0.1 and verifies the signature with
the standardwebhooks package's own ``verify``.
"""

import datetime as dt
import json
from email.utils import format_datetime

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from channels.services import rotate_secret
from deliveries.models import Attempt, Delivery, DeliveryStatus
from deliveries.selectors import attempt_request_body
from tests.engine.helpers import deliver_now, emit_and_deliver
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Reply, wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(receiver):
    channel = postback_channel(receiver.url("/hook"), headers={"X-Tenant": "acme", "Authorization": "Bearer s3cr3t"})
    subscribe(channel, "contact.created")
    return channel


@pytest.fixture
def no_backoff(settings):
    settings.WEBHOOKS_RETRY_DELAYS = [0, 0, 0]


def test_envelope_is_camel_case_with_every_field_and_signed(receiver, channel, django_user_model):
    user = django_user_model.objects.create_user(username="ada")

    event = emit_and_deliver(payload={"contact": {"id": 7}}, triggered_by=user, occurred_at="2026-11-23T10:15:00Z")

    [request] = receiver.requests
    body = Webhook(channel.secret).verify(request.body, request.headers)
    assert body == {
        "eventId": str(event.pk),
        "eventType": "contact.created",
        "occurredAt": "2026-11-23T10:15:00Z",
        "source": "shop",
        "triggerUser": "ada",
        "webhookConfig": channel.subscriptions.get().pk,
        "retryCount": 0,
        "payload": {"contact": {"id": 7}},
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Postbacks/")
    assert request.headers["webhook-id"] == str(event.pk)
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["x-tenant"] == "acme"


def test_a_wrong_secret_does_not_verify(receiver, channel):
    emit_and_deliver()

    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(
            receiver.requests[0].body, receiver.requests[0].headers
        )


def test_after_rotation_both_old_and_new_secret_verify(receiver, channel):
    old = channel.secret
    new = rotate_secret(channel=channel)

    emit_and_deliver()

    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)


def test_the_attempt_records_request_and_response_but_never_the_secret_or_credentials(receiver, channel):
    receiver.reply("/hook", Reply(status=200, body=b'{"ok":true}', headers={"X-Receipt": "r-1"}))

    emit_and_deliver()

    attempt = Attempt.objects.get()
    body = attempt_request_body(attempt)
    assert attempt.response_status == 200 and attempt.response_body == '{"ok":true}'
    assert attempt.response_headers["X-Receipt"] == "r-1"
    assert attempt.request_headers["webhook-id"] == receiver.requests[0].webhook_id
    assert attempt.request_headers["X-Tenant"] == "***"  # every custom header value is masked (SPEC 6)
    assert attempt.request_headers["Authorization"] == "***"
    # the body is rebuilt from the event, byte for byte what was sent
    assert body.encode() == receiver.requests[0].body
    assert attempt.request_url == receiver.url("/hook")
    assert attempt.trigger == "automatic" and attempt.number == 1
    recorded = json.dumps([attempt.request_headers, body, attempt.error_detail])
    assert channel.secret not in recorded and channel.secret.removeprefix("whsec_") not in recorded
    assert "s3cr3t" not in recorded


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_succeeds(receiver, channel, status):
    receiver.reply("/hook", Reply(status=status, body=b"" if status == 204 else b"ok"))

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 1
    assert delivery.completed_at is not None and delivery.next_attempt_at is None


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_retryable_status_schedules_a_retry_with_backoff(receiver, channel, status, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [30, 120, 600]
    receiver.reply("/hook", Reply(status=status))
    before = timezone.now()

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_response_status == status and delivery.last_error == "http_status"
    # 30 s with full jitter: anywhere between 15 and 45 s
    assert before + dt.timedelta(seconds=15) <= delivery.next_attempt_at <= timezone.now() + dt.timedelta(seconds=45)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 503])
def test_retryable_status_is_retried_three_times_then_fails_with_the_reason(receiver, channel, no_backoff, status):
    receiver.reply("/hook", Reply(status=status))

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempt_count == 4 and delivery.automatic_attempts == 4
    assert str(status) in delivery.failure_reason and "3 automatic retries" in delivery.failure_reason
    assert [r.json["retryCount"] for r in receiver.requests] == [0, 1, 2, 3]
    assert len(set(receiver.ids().keys())) == 1  # the same webhook-id on every attempt
    assert list(Attempt.objects.order_by("number").values_list("number", flat=True)) == [1, 2, 3, 4]


def test_a_retry_that_succeeds_ends_succeeded(receiver, channel, no_backoff):
    answers = iter([503, 502, 200])
    receiver.reply("/hook", lambda request: Reply(status=next(answers)))

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 3


@pytest.mark.parametrize("status", [301, 302, 307, 400, 401, 403, 404, 410, 422, 501, 505])
def test_other_status_fails_at_once_without_retry(receiver, channel, no_backoff, status):
    receiver.reply("/hook", Reply(status=status, headers={"Location": receiver.url("/elsewhere")}))

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 1
    assert delivery.last_response_status == status and str(status) in delivery.failure_reason
    # Redirects are not followed.
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_timeout_fails_at_once_with_error_timeout_and_no_retry(receiver, no_backoff):
    channel = postback_channel(receiver.url("/slow"), timeout=1)
    subscribe(channel, "contact.created")
    receiver.reply("/slow", Reply(delay=3))

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "timeout"
    assert "not retried automatically" in delivery.failure_reason
    attempt = Attempt.objects.get()
    assert attempt.error == "timeout" and attempt.response_status is None and attempt.duration_ms >= 900
    assert len(receiver.requests) == 1


def test_connection_refused_is_retried_then_fails(no_backoff):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = postback_channel(f"http://127.0.0.1:{port}/hook")
    subscribe(channel, "contact.created")

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 4
    assert set(Attempt.objects.values_list("error", flat=True)) == {"connection"}


def test_dns_failure_is_retried_with_error_dns(settings):
    settings.WEBHOOKS_RETRY_DELAYS = [60]
    channel = postback_channel("http://127.0.0.1:9/hook")
    channel.url = "http://no-such-host.invalid/hook"  # saved before the name stopped resolving
    channel.save()
    subscribe(channel, "contact.created")

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == "dns"


@pytest.mark.parametrize("retry_after", ["7", "http-date"])
def test_retry_after_is_honoured(receiver, channel, settings, retry_after):
    settings.WEBHOOKS_RETRY_DELAYS = [1]
    if retry_after == "http-date":
        retry_after = format_datetime(timezone.now() + dt.timedelta(seconds=8), usegmt=True)
    receiver.reply("/hook", Reply(status=429, headers={"Retry-After": retry_after}))
    before = timezone.now()

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=6)
    assert delivery.next_attempt_at <= timezone.now() + dt.timedelta(seconds=9)


def test_retry_after_is_capped(receiver, channel, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [1]
    settings.WEBHOOKS_RETRY_AFTER_CAP_S = 60
    receiver.reply("/hook", Reply(status=503, headers={"Retry-After": "864000"}))

    emit_and_deliver()

    delivery = Delivery.objects.get()
    # capped at 60 s, with up to a tenth of it as jitter above the floor
    assert delivery.next_attempt_at <= timezone.now() + dt.timedelta(seconds=66.1)


def test_only_the_first_4_kib_of_a_huge_response_body_is_read_and_kept(receiver, channel):
    receiver.reply("/hook", Reply(status=200, body=b"A" * (5 * 1024 * 1024)))

    emit_and_deliver()

    attempt = Attempt.objects.get()
    assert attempt.response_body == "A" * 4096
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_a_due_retry_is_sent_again_by_the_next_pass(receiver, channel, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [30]
    answers = iter([500, 200])
    receiver.reply("/hook", lambda request: Reply(status=next(answers)))
    emit_and_deliver()
    assert len(receiver.requests) == 1
    Delivery.objects.update(next_attempt_at=timezone.now())  # time passes

    deliver_now()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 2
    assert receiver.requests[1].json["retryCount"] == 1


def test_an_endpoint_trickling_its_headers_is_cut_at_the_timeout_of_the_whole_attempt(receiver, no_backoff):
    """Each byte arrives within the per-read timeout; only a deadline on the attempt stops it."""
    receiver.reply("/trickle", Reply(trickle_every=0.3, trickle_for=15))
    channel = postback_channel(receiver.url("/trickle"), timeout=1)
    subscribe(channel, "contact.created")

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "timeout"
    # The receiver notices the hang-up at its next byte; near the 1 s timeout, not after the 15 s trickle.
    [request] = wait_until(lambda: [r for r in receiver.requests if r.hung_up], timeout=10, message="hang-up seen")
    assert request.client_stayed < 5


def test_a_binary_answer_with_nul_bytes_is_recorded_within_4_kib(receiver, channel):
    """PostgreSQL text cannot hold NUL: the stored body replaces it, and stays within 4 KiB."""
    receiver.reply("/hook", Reply(status=200, body=b"\x00\xff" * 5000, headers={"X-Bin": "a"}))

    emit_and_deliver()

    attempt = Attempt.objects.get()
    assert "\x00" not in attempt.response_body and len(attempt.response_body.encode()) <= 4096
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
