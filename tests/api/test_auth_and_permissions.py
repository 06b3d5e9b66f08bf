"""Who may do what over the API: anonymous callers, users without permissions, view-only staff, staff with retry."""

import uuid

import pytest
from django.utils import timezone

from channels.models import Channel, Subscription
from deliveries.models import Delivery, DeliveryStatus
from events.models import Event, EventType

pytestmark = pytest.mark.django_db

VIEW_ALL = [
    "events.view_eventtype",
    "events.view_event",
    "channels.view_channel",
    "channels.view_subscription",
    "deliveries.view_delivery",
]


@pytest.fixture
def objects(postback_channel):
    """One of everything, so detail URLs exist."""
    event_type = EventType.objects.get(key="order.completed")
    subscription = Subscription.objects.create(event_type=event_type, channel=postback_channel)
    event = Event.objects.create(
        type=event_type, source="shop", occurred_at=timezone.now(), payload={"order": {"id": 1}}
    )
    delivery = Delivery.objects.create(
        event=event,
        subscription=subscription,
        channel=postback_channel,
        event_type=event_type,
        source="shop",
        status=DeliveryStatus.FAILED,
        attempt_count=1,
    )
    return {"channel": postback_channel, "subscription": subscription, "event": event, "delivery": delivery}


def read_urls(o):
    return [
        "/api/v1/event-types/",
        "/api/v1/event-types/order.completed/",
        "/api/v1/channels/",
        f"/api/v1/channels/{o['channel'].pk}/",
        "/api/v1/subscriptions/",
        f"/api/v1/subscriptions/{o['subscription'].pk}/",
        "/api/v1/events/",
        f"/api/v1/events/{o['event'].pk}/",
        "/api/v1/deliveries/",
        f"/api/v1/deliveries/{o['delivery'].pk}/",
    ]


def write_calls(o):
    return [
        ("patch", "/api/v1/event-types/order.completed/", {"enabled": True}),
        ("post", "/api/v1/channels/", {"name": "x", "url": "http://127.0.0.1:9/x"}),
        ("patch", f"/api/v1/channels/{o['channel'].pk}/", {"name": "renamed"}),
        ("delete", f"/api/v1/channels/{o['channel'].pk}/", None),
        ("post", f"/api/v1/channels/{o['channel'].pk}/test/", None),
        ("post", f"/api/v1/channels/{o['channel'].pk}/rotate-secret/", None),
        (
            "post",
            "/api/v1/subscriptions/",
            {"event_type": "contact.created", "channel": o["channel"].pk, "sources": ["shop"]},
        ),
        ("patch", f"/api/v1/subscriptions/{o['subscription'].pk}/", {"active": False}),
        ("delete", f"/api/v1/subscriptions/{o['subscription'].pk}/", None),
        ("post", "/api/v1/events/", {"type": "contact.created", "source": "shop", "payload": {}}),
        ("post", f"/api/v1/deliveries/{o['delivery'].pk}/retry/", None),
    ]


def call(client, method, url, data=None):
    return getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)


def assert_nothing_changed(o):
    o["channel"].refresh_from_db()
    assert o["channel"].name == "receiver"
    assert Channel.objects.count() == 1
    assert Subscription.objects.count() == 1
    assert Event.objects.count() == 1
    assert not EventType.objects.get(key="order.completed").enabled
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


def test_anonymous_calls_get_401_with_a_token_challenge(anonymous, objects):
    for url in read_urls(objects):
        response = anonymous.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
    for method, url, data in write_calls(objects):
        assert call(anonymous, method, url, data).status_code == 401, (method, url)
    assert_nothing_changed(objects)


def test_an_unknown_token_gets_401(anonymous, objects):
    anonymous.credentials(HTTP_AUTHORIZATION="Token " + uuid.uuid4().hex)
    assert anonymous.get("/api/v1/channels/").status_code == 401


def test_a_user_without_permissions_gets_403_everywhere(make_client, objects):
    client = make_client(is_staff=True)
    for url in read_urls(objects):
        assert client.get(url).status_code == 403, url
    for method, url, data in write_calls(objects):
        assert call(client, method, url, data).status_code == 403, (method, url)
    assert_nothing_changed(objects)


def test_view_only_staff_can_read_everything_and_change_nothing(make_client, objects):
    client = make_client(*VIEW_ALL)
    for url in read_urls(objects):
        assert client.get(url).status_code == 200, url
    for method, url, data in write_calls(objects):
        assert call(client, method, url, data).status_code == 403, (method, url)
    assert_nothing_changed(objects)


def test_view_only_staff_never_sees_a_secret(make_client, objects):
    client = make_client(*VIEW_ALL)
    secret = objects["channel"].secret
    for url in read_urls(objects):
        assert secret not in client.get(url).content.decode(), url
        assert "whsec_" not in client.get(url).content.decode(), url


def test_each_write_needs_its_own_permission(make_client, objects):
    # Given a user who may change channels, but not test, rotate or retry
    client = make_client(*VIEW_ALL, "channels.change_channel", "channels.add_channel", "channels.delete_channel")
    channel = objects["channel"]

    # Then the extra actions stay closed to them
    assert client.post(f"/api/v1/channels/{channel.pk}/test/").status_code == 403
    assert client.post(f"/api/v1/channels/{channel.pk}/rotate-secret/").status_code == 403
    assert client.post(f"/api/v1/deliveries/{objects['delivery'].pk}/retry/").status_code == 403
    assert client.patch("/api/v1/event-types/order.completed/", {"enabled": True}).status_code == 403
    # While what they hold works
    assert client.patch(f"/api/v1/channels/{channel.pk}/", {"name": "renamed"}).status_code == 200


def test_throttling_limits_each_token(make_client, settings, objects):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/min"}}
    first, second = make_client(*VIEW_ALL), make_client(*VIEW_ALL)

    statuses = [first.get("/api/v1/channels/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = first.get("/api/v1/channels/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    # Another token has its own allowance
    assert second.get("/api/v1/channels/").status_code == 200


def test_session_login_also_works_for_staff_in_the_browser(client, django_user_model, objects):
    # Staff signed in to the admin can try calls from the docs page.
    from tests.api.conftest import grant

    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    grant(user, "channels.view_channel")
    client.force_login(user)
    assert client.get("/api/v1/channels/").status_code == 200


def test_options_and_head_follow_the_read_permission(make_client, anonymous, objects):
    viewer = make_client(*VIEW_ALL)
    nobody = make_client()

    for url in read_urls(objects):
        assert viewer.options(url).status_code == 200, url
        assert viewer.head(url).status_code == 200, url
        assert nobody.options(url).status_code == 403, url
        assert anonymous.options(url).status_code == 401, url


def test_staff_with_retry_may_retry_and_nothing_else(make_client, objects, monkeypatch):
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: None)
    client = make_client(*VIEW_ALL, "deliveries.retry_delivery")
    retry_url = f"/api/v1/deliveries/{objects['delivery'].pk}/retry/"

    for method, url, data in write_calls(objects):
        if url != retry_url:
            assert call(client, method, url, data).status_code == 403, (method, url)
    response = client.post(retry_url)

    assert response.status_code == 202
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert Delivery.objects.get().requested_by == client.user
