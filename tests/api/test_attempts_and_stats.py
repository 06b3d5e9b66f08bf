"""v1.1 reads: attempts per delivery and per channel, channel stats, date and order_ref filters on deliveries."""

import datetime as dt

import pytest
from django.utils import timezone

from channels.models import Channel, ChannelKind, Subscription
from deliveries.models import Attempt, ChannelBreaker, Delivery, DeliveryStatus, Trigger
from events.models import Event, EventType
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db

READ = ["channels.view_channel", "deliveries.view_delivery"]


@pytest.fixture
def make_delivery(postback_channel):
    def make(*, channel=None, order_ref="", created_at=None, attempts=()):
        """``attempts``: (minutes ago, duration_ms, status, error, trigger) per attempt."""
        channel = channel or postback_channel
        event_type = EventType.objects.get(key="order.completed")
        subscription, _ = Subscription.objects.get_or_create(event_type=event_type, channel=channel)
        event = Event.objects.create(
            type=event_type,
            source="shop",
            occurred_at=timezone.now(),
            payload={"order": {"id": 1}},
            order_ref=order_ref,
        )
        delivery = Delivery.objects.create(
            event=event, subscription=subscription, channel=channel, event_type=event_type, source="shop"
        )
        if created_at is not None:
            Delivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
        now = timezone.now()
        for number, (minutes_ago, duration, status, error, trigger) in enumerate(attempts, start=1):
            started = now - dt.timedelta(minutes=minutes_ago)
            Attempt.objects.create(
                delivery=delivery,
                number=number,
                trigger=trigger,
                started_at=started,
                finished_at=started + dt.timedelta(milliseconds=duration),
                duration_ms=duration,
                response_status=status,
                error=error,
            )
        return delivery

    return make


def test_the_attempts_of_a_delivery_show_request_and_answer_with_secrets_masked(admin_api, receiver):
    receiver.replies["/hook"] = Reply(status=503, body=b"upstream down " * 1000, headers={"Retry-After": "30"})
    created = admin_api.post(
        "/api/v1/channels/",
        {"name": "erp", "url": receiver.url("/hook"), "headers": {"X-Api-Key": "k-123"}},
        format="json",
    ).json()
    outcome = admin_api.post(f"/api/v1/channels/{created['id']}/test/").json()

    response = admin_api.get(f"/api/v1/deliveries/{outcome['delivery']}/attempts/")

    assert response.status_code == 200
    (attempt,) = response.json()["results"]
    assert attempt["delivery"] == outcome["delivery"] and attempt["channel"] == created["id"]
    assert attempt["trigger"] == "test" and attempt["triggered_by"] == "integrator"
    assert attempt["response_status"] == 503 and attempt["succeeded"] is False and attempt["in_flight"] is False
    assert attempt["response_headers"]["Retry-After"] == "30"
    assert len(attempt["response_body"]) <= 4096 and attempt["response_body"].startswith("upstream down")
    assert attempt["request_headers"]["X-Api-Key"] == "***"
    assert attempt["request_headers"]["webhook-signature"] == "***"
    assert attempt["request_headers"]["webhook-id"] == outcome["event"]
    assert "k-123" not in response.content.decode() and created["secret"] not in response.content.decode()
    assert receiver.requests[-1].headers["webhook-signature"] not in response.content.decode()
    assert attempt["duration_ms"] >= 0 and attempt["started_at"] and attempt["finished_at"]


def test_the_attempts_of_a_channel_are_cursor_paged_newest_first_and_filtered(
    admin_api, make_delivery, postback_channel
):
    other = Channel.objects.create(name="other", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/x")
    make_delivery(attempts=[(30, 10, 500, "http_status", Trigger.AUTOMATIC), (20, 12, 200, "", Trigger.AUTOMATIC)])
    make_delivery(attempts=[(10, 900, None, "timeout", Trigger.AUTOMATIC)])
    make_delivery(channel=other, attempts=[(5, 10, 200, "", Trigger.AUTOMATIC)])
    url = f"/api/v1/channels/{postback_channel.pk}/attempts/"

    everything = admin_api.get(url).json()
    first_page = admin_api.get(url, {"page_size": 2}).json()
    second_page = admin_api.get(first_page["next"]).json()

    assert [a["duration_ms"] for a in everything["results"]] == [900, 12, 10]
    assert [a["duration_ms"] for a in first_page["results"] + second_page["results"]] == [900, 12, 10]
    assert {a["channel"] for a in everything["results"]} == {postback_channel.pk}

    def durations(**query):
        response = admin_api.get(url, query)
        assert response.status_code == 200, response.json()
        return [a["duration_ms"] for a in response.json()["results"]]

    assert durations(outcome="succeeded") == [12]
    assert durations(outcome="failed") == [900, 10]
    assert durations(status_code=500) == [10]
    assert durations(error="timeout") == [900]
    since = (timezone.now() - dt.timedelta(minutes=25)).isoformat().replace("+00:00", "Z")
    assert durations(created_after=since) == [900, 12]
    assert durations(created_before=since) == [10]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-45"}, "created_before"),
        ({"status_code": "abc"}, "status_code"),
        ({"status_code": "99"}, "status_code"),
        ({"outcome": "maybe"}, "outcome"),
    ],
)
def test_invalid_attempt_filters_are_a_400_naming_the_parameter(admin_api, postback_channel, query, parameter):
    response = admin_api.get(f"/api/v1/channels/{postback_channel.pk}/attempts/", query)

    assert response.status_code == 400 and parameter in response.json()["errors"]


def test_attempts_and_stats_need_view_permissions_on_channels_and_deliveries(make_client, make_delivery):
    delivery = make_delivery(attempts=[(1, 10, 200, "", Trigger.AUTOMATIC)])
    channel_only = make_client("channels.view_channel")
    deliveries_only = make_client("deliveries.view_delivery")
    both = make_client(*READ)

    for path in (f"/api/v1/channels/{delivery.channel_id}/attempts/", f"/api/v1/channels/{delivery.channel_id}/stats/"):
        assert channel_only.get(path).status_code == 403
        assert deliveries_only.get(path).status_code == 403
        assert both.get(path).status_code == 200
    assert channel_only.get(f"/api/v1/deliveries/{delivery.pk}/attempts/").status_code == 403
    assert deliveries_only.get(f"/api/v1/deliveries/{delivery.pk}/attempts/").status_code == 200
    assert both.get("/api/v1/deliveries/999999/attempts/").status_code == 404


def test_stats_count_the_window_without_test_sends(admin_api, make_delivery, postback_channel):
    # 20 in the last hour: durations 10..200 ms, 4 of them failed; and a slow failure 3 h ago.
    recent = [
        (1 + i, 10 * (i + 1), 500 if i % 5 == 0 else 200, "http_status" if i % 5 == 0 else "", Trigger.AUTOMATIC)
        for i in range(20)
    ]
    make_delivery(attempts=recent)
    make_delivery(attempts=[(180, 5000, None, "timeout", Trigger.AUTOMATIC)])
    make_delivery(attempts=[(2, 99999, 500, "http_status", Trigger.TEST)])  # a test send: not counted
    url = f"/api/v1/channels/{postback_channel.pk}/stats/"

    hour = admin_api.get(url, {"window": "1h"}).json()
    day = admin_api.get(url).json()

    assert hour["window"] == "1h" and hour["attempts"] == 20
    assert hour["succeeded"] == 16 and hour["failed"] == 4 and hour["success_rate"] == 0.8
    assert hour["p50_duration_ms"] == 100 and hour["p95_duration_ms"] == 190
    assert hour["last_success_at"] and hour["last_failure_at"]
    assert day["window"] == "24h" and day["attempts"] == 21 and day["failed"] == 5
    assert day["p95_duration_ms"] == 200
    assert hour["active"] is True and hour["breaker"]["state"] == "closed"


def test_stats_show_the_last_success_and_failure_ever_not_only_in_the_window(
    admin_api, make_delivery, postback_channel
):
    # Given a channel that last worked 8 days ago (its last failure 9 days ago), failing ever since,
    # and a later test send that succeeded (test sends are not counted).
    day = 24 * 60
    worked = make_delivery(
        attempts=[(9 * day, 30, 500, "http_status", Trigger.AUTOMATIC), (8 * day, 40, 200, "", Trigger.AUTOMATIC)]
    )
    Delivery.objects.filter(pk=worked.pk).update(
        status=DeliveryStatus.SUCCEEDED, completed_at=timezone.now() - dt.timedelta(days=8)
    )
    test_send = make_delivery(attempts=[(3 * day, 10, 200, "", Trigger.TEST)])
    Delivery.objects.filter(pk=test_send.pk).update(
        status=DeliveryStatus.SUCCEEDED,
        pending_trigger=Trigger.TEST,
        completed_at=timezone.now() - dt.timedelta(days=3),
    )
    make_delivery(attempts=[(2 * day, 50, None, "timeout", Trigger.AUTOMATIC)])
    url = f"/api/v1/channels/{postback_channel.pk}/stats/"

    # When an integrator asks for the last week, then the last hour
    week = admin_api.get(url, {"window": "7d"}).json()
    hour = admin_api.get(url, {"window": "1h"}).json()

    # Then the window figures count the week only, while the last success is the one 8 days ago
    assert week["attempts"] == 1 and week["succeeded"] == 0 and week["failed"] == 1
    assert week["success_rate"] == 0.0
    last_success = dt.datetime.fromisoformat(week["last_success_at"])
    assert dt.timedelta(days=8) <= timezone.now() - last_success < dt.timedelta(days=8, minutes=5)
    last_failure = dt.datetime.fromisoformat(week["last_failure_at"])
    assert dt.timedelta(days=2) <= timezone.now() - last_failure < dt.timedelta(days=2, minutes=5)
    # and in an hour with no attempt at all, both still show, the same.
    assert hour["attempts"] == 0 and hour["success_rate"] is None
    assert hour["last_success_at"] == week["last_success_at"] and hour["last_failure_at"] == week["last_failure_at"]


def test_stats_of_a_channel_without_attempts_and_with_its_breaker_open(admin_api, postback_channel):
    ChannelBreaker.objects.create(
        channel=postback_channel,
        state="open",
        consecutive_failures=7,
        open_until=timezone.now() + dt.timedelta(minutes=5),
    )
    postback_channel.active = False
    postback_channel.disabled_at = timezone.now()
    postback_channel.disabled_reason = "All attempts failed for 120 hours."
    postback_channel.save()

    body = admin_api.get(f"/api/v1/channels/{postback_channel.pk}/stats/", {"window": "7d"}).json()

    assert body["attempts"] == 0 and body["success_rate"] is None and body["p50_duration_ms"] is None
    assert body["last_success_at"] is None and body["last_failure_at"] is None
    assert body["active"] is False and body["disabled_at"] and body["disabled_reason"].startswith("All attempts")
    assert body["breaker"]["state"] == "open" and body["breaker"]["consecutive_failures"] == 7


@pytest.mark.parametrize("window", ["2h", "1H", "30d", "24"])
def test_an_unknown_stats_window_is_a_400_naming_it(admin_api, postback_channel, window):
    response = admin_api.get(f"/api/v1/channels/{postback_channel.pk}/stats/", {"window": window})

    assert response.status_code == 400 and "window" in response.json()["errors"]


def test_deliveries_filter_by_creation_time_and_order_ref(admin_api, make_delivery):
    now = timezone.now()
    old = make_delivery(order_ref="A-1", created_at=now - dt.timedelta(days=3))
    new = make_delivery(order_ref="A-2")
    make_delivery(order_ref="A-1")

    def ids(**query):
        response = admin_api.get("/api/v1/deliveries/", query)
        assert response.status_code == 200, response.json()
        return {d["id"] for d in response.json()["results"]}

    day_ago = (now - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert old.pk not in ids(created_after=day_ago) and new.pk in ids(created_after=day_ago)
    assert ids(created_before=day_ago) == {old.pk}
    assert ids(created_after="2099-01-01") == set()  # the example: no longer everything
    assert len(ids(order_ref="A-1")) == 2 and ids(order_ref="A-2") == {new.pk}
    assert ids(order_ref="A-1", created_before=day_ago) == {old.pk}


@pytest.mark.parametrize("parameter", ["created_after", "created_before"])
@pytest.mark.parametrize("value", ["tomorrow", "2026-02-30", "1e9"])
def test_an_invalid_date_on_deliveries_is_a_400_naming_the_parameter(admin_api, parameter, value):
    response = admin_api.get("/api/v1/deliveries/", {parameter: value})

    assert response.status_code == 400 and parameter in response.json()["errors"]
