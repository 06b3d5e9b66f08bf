"""Users of every role and a small world of objects for the permission and secrecy tests."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

ROLES = ["anonymous", "no_perms", "viewer", "retrier", "superuser"]
VIEW_PERMS = [
    "events.view_eventtype",
    "events.view_event",
    "events.view_order",
    "channels.view_channel",
    "channels.view_subscription",
    "deliveries.view_delivery",
    "deliveries.view_attempt",
]
RETRY_PERMS = VIEW_PERMS + ["deliveries.retry_delivery"]
PASSWORD = "correct horse battery staple 42"


def _grant(user, perms):
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def make_user(role: str):
    """The user for ``role`` (None for anonymous): active user with no permissions, staff
    who may only view, staff who may view and retry, superuser."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if role == "anonymous":
        return None
    if role == "superuser":
        return User.objects.create_superuser(username="root", email="root@example.com", password=PASSWORD)
    user = User.objects.create_user(
        username=role, email=f"{role}@example.com", password=PASSWORD, is_staff=role in ("viewer", "retrier")
    )
    _grant(user, {"no_perms": [], "viewer": VIEW_PERMS, "retrier": RETRY_PERMS}[role])
    return user


@dataclass
class World:
    event_type: object
    channel: object
    subscription: object
    event: object
    delivery: object
    attempt: object


@pytest.fixture
def world(db, settings):
    """One of everything, with a failed delivery of a type that allows manual retry.

    The channel points at a closed port: the superuser's test send must not reach anything.
    """
    from channels.models import Channel, ChannelKind, Subscription
    from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind
    from events.models import Event, EventType, Order

    event_type = EventType.objects.get(key="order.completed")
    event_type.enabled = True
    event_type.save(update_fields=["enabled"])
    channel = Channel.objects.create(
        name="shop hook", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/hook", timeout=2
    )
    subscription = Subscription.objects.create(event_type=event_type, channel=channel)
    now = timezone.now()
    event = Event.objects.create(
        type=event_type, source="shop", occurred_at=now, payload=event_type.example_payload, order_ref="A-1001"
    )
    Order.objects.create(ref="A-1001", first_event_at=now, last_event_at=now)
    delivery = Delivery.objects.create(
        event=event,
        subscription=subscription,
        channel=channel,
        event_type=event_type,
        source="shop",
        status=DeliveryStatus.FAILED,
        attempt_count=1,
        automatic_attempts=1,
        last_error=ErrorKind.HTTP_STATUS,
        last_response_status=410,
        failure_reason="HTTP 410",
        completed_at=now,
    )
    attempt = Attempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=now,
        request_url=channel.url,
        response_status=410,
        error=ErrorKind.HTTP_STATUS,
    )
    return World(event_type, channel, subscription, event, delivery, attempt)
