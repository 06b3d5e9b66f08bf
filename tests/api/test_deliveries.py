"""deliveries/: the log with filters and cursor pages, attempts on detail, and manual retry."""

import datetime as dt

import pytest
from django.utils import timezone

from channels.models import Channel, Subscription
from deliveries.models import Attempt, Delivery, DeliveryStatus, Trigger
from events.models import Event, EventType

pytestmark = pytest.mark.django_db

RETRY_ONLY = ["deliveries.view_delivery", "deliveries.retry_delivery"]


@pytest.fixture
def make_delivery(postback_channel):
    def make(key="order.completed", status=DeliveryStatus.FAILED, channel=None, source="shop", attempts=1):
        channel = channel or postback_channel
        event_type = EventType.objects.get(key=key)
        subscription, _ = Subscription.objects.get_or_create(event_type=event_type, channel=channel)
        event = Event.objects.create(
            type=event_type, source=source, occurred_at=timezone.now(), payload={"order": {"id": 1}}
        )
        delivery = Delivery.objects.create(
            event=event,
            subscription=subscription,
            channel=channel,
            event_type=event_type,
            source=source,
            status=status,
            attempt_count=attempts,
            last_response_status=404 if status == DeliveryStatus.FAILED else None,
            failure_reason="HTTP 404" if status == DeliveryStatus.FAILED else "",
        )
        started = timezone.now() - dt.timedelta(minutes=5)
        for number in range(1, attempts + 1):
            Attempt.objects.create(
                delivery=delivery,
                number=number,
                started_at=started,
                duration_ms=12,
                response_status=404,
                error="http_status",
            )
        return delivery

    return make


def test_a_delivery_detail_shows_its_attempts(admin_api, make_delivery):
    delivery = make_delivery(attempts=2)

    body = admin_api.get(f"/api/v1/deliveries/{delivery.pk}/").json()

    assert {k: body[k] for k in ("id", "event", "channel", "subscription", "status", "attempt_count")} == {
        "id": delivery.pk,
        "event": str(delivery.event_id),
        "channel": delivery.channel_id,
        "subscription": delivery.subscription_id,
        "status": "failed",
        "attempt_count": 2,
    }
    assert "next_attempt_at" in body
    assert [a["number"] for a in body["attempts"]] == [1, 2]
    assert {"number", "trigger", "response_status", "error", "duration_ms", "started_at"} <= set(body["attempts"][0])
    assert body["attempts"][0]["response_status"] == 404 and body["attempts"][0]["error"] == "http_status"


def test_the_list_does_not_carry_attempts(admin_api, make_delivery):
    make_delivery()

    body = admin_api.get("/api/v1/deliveries/").json()

    assert len(body["results"]) == 1 and "attempts" not in body["results"][0]


def test_the_log_filters_by_status_channel_event_and_event_type(admin_api, make_delivery):
    other = Channel.objects.create(name="other", url="http://127.0.0.1:9/other")
    failed = make_delivery()
    succeeded = make_delivery(status=DeliveryStatus.SUCCEEDED, channel=other)
    refund = make_delivery(key="refund.applied", status=DeliveryStatus.PENDING, attempts=0)

    def ids(**params):
        response = admin_api.get("/api/v1/deliveries/", params)
        assert response.status_code == 200, response.content
        return {d["id"] for d in response.json()["results"]}

    assert ids() == {failed.pk, succeeded.pk, refund.pk}
    assert ids(status="failed") == {failed.pk}
    assert ids(channel=other.pk) == {succeeded.pk}
    assert ids(event=str(refund.event_id)) == {refund.pk}
    assert ids(event_type="refund.applied") == {refund.pk}
    assert ids(status="succeeded", channel=failed.channel_id) == set()
    for bad in ({"status": "lost"}, {"channel": "x"}, {"channel": "1.5"}, {"event": "nope"}):
        assert admin_api.get("/api/v1/deliveries/", bad).status_code == 400, bad


def test_the_log_is_cursor_paginated_newest_first(admin_api, make_delivery):
    made = [make_delivery(attempts=0).pk for _ in range(5)]

    first = admin_api.get("/api/v1/deliveries/", {"page_size": 2}).json()
    second = admin_api.get(first["next"]).json()

    assert [d["id"] for d in first["results"] + second["results"]] == sorted(made, reverse=True)[:4]
    assert "count" not in first


def test_retrying_a_failed_delivery_is_202_and_queues_one_manual_attempt(
    make_client, make_delivery, django_capture_on_commit_callbacks, monkeypatch
):
    kicks = []
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: kicks.append(1))
    client = make_client(*RETRY_ONLY)
    delivery = make_delivery()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["pending_trigger"] == "manual" and body["next_attempt_at"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.pending_trigger == Trigger.MANUAL
    assert delivery.requested_by == client.user
    assert kicks == [1]  # the dispatcher is asked to send it once the retry is committed


def test_a_delivery_that_has_not_failed_is_not_retried(make_client, make_delivery):
    client = make_client(*RETRY_ONLY)
    for status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        delivery = make_delivery(status=status)

        response = client.post(f"/api/v1/deliveries/{delivery.pk}/retry/")

        assert response.status_code == 409, status
        assert "failed" in response.json()["detail"]
        assert Delivery.objects.get(pk=delivery.pk).status == status


def test_a_delivery_of_a_type_without_manual_retry_is_not_retried(make_client, make_delivery):
    client = make_client(*RETRY_ONLY)
    delivery = make_delivery(key="contact.created")

    response = client.post(f"/api/v1/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 409
    assert "contact.created" in response.json()["detail"]
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED


def test_retry_needs_the_retry_permission(make_client, make_delivery):
    viewer = make_client("deliveries.view_delivery")
    delivery = make_delivery()

    response = viewer.post(f"/api/v1/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED


def test_retrying_an_unknown_delivery_is_404(make_client):
    client = make_client(*RETRY_ONLY)

    assert client.post("/api/v1/deliveries/987654/retry/").status_code == 404
    assert client.post("/api/v1/deliveries/99999999999999999999999/retry/").status_code == 404
