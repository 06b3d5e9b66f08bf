"""Fixtures for the staff pages: users with chosen permissions, and rows made with the ORM.

The admin pages only display deliveries, so most tests create Event/Delivery/Attempt rows
directly; the tests that act (retry, test send) go through the engine's services.
"""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from channels.models import Channel, ChannelKind, Subscription
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind, Trigger
from events.models import Event, EventType, Order

_refs = itertools.count(1)


@pytest.fixture
def make_staff(db, django_user_model):
    """A logged-in client for a staff user holding exactly ``perms`` ("app.codename")."""

    def make(*perms, username=None, enforce_csrf_checks=False):
        user = django_user_model.objects.create_user(
            username=username or f"staff{next(_refs)}", password="pw", is_staff=True
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def postback_channel(db):
    return Channel.objects.create(name="Shop backend", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/hook")


@pytest.fixture
def email_channel(db):
    return Channel.objects.create(name="Sales inbox", kind=ChannelKind.EMAIL, email_to="sales@example.com")


@pytest.fixture
def make_delivery(db):
    """A delivery of ``key`` to ``channel`` with ``attempts`` recorded attempts, in the given status."""

    def make(
        *,
        channel,
        key="order.completed",
        status=DeliveryStatus.FAILED,
        order_ref=None,
        source="shop",
        attempts=1,
        response_status=500,
        created_at=None,
        is_test=None,
    ):
        """``is_test``: a test send; by default one of the ``test`` type is (as migration 0009 backfilled)."""
        event_type = EventType.objects.get(key=key)
        now = timezone.now()
        event = Event.objects.create(
            type=event_type,
            source=source,
            occurred_at=now,
            payload={"order": {"id": order_ref or "x"}},
            order_ref=order_ref or "",
        )
        if order_ref:
            Order.objects.update_or_create(ref=order_ref, defaults={"first_event_at": now, "last_event_at": now})
        subscription = Subscription.objects.filter(event_type=event_type, channel=channel).first()
        delivery = Delivery.objects.create(
            event=event,
            subscription=subscription,
            channel=channel,
            event_type=event_type,
            source=source,
            status=status,
            attempt_count=attempts,
            automatic_attempts=attempts,
            last_response_status=response_status if attempts else None,
            last_error=ErrorKind.HTTP_STATUS if status == DeliveryStatus.FAILED else "",
            failure_reason="HTTP 500 after 4 attempts" if status == DeliveryStatus.FAILED else "",
            completed_at=now if status in (DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED) else None,
            is_test=key == "test" if is_test is None else is_test,
        )
        for number in range(1, attempts + 1):
            Attempt.objects.create(
                delivery=delivery,
                number=number,
                trigger=Trigger.TEST if delivery.is_test else Trigger.AUTOMATIC,
                started_at=now,
                duration_ms=12,
                request_url=channel.url,
                request_headers={"webhook-id": str(event.id)},
                response_status=response_status,
                response_headers={"Content-Type": "text/plain"},
                response_body=f"answer {number}",
                error=ErrorKind.HTTP_STATUS if not 200 <= response_status < 300 else "",
            )
        if created_at is not None:
            Delivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
            delivery.refresh_from_db()
        return delivery

    return make


def an_hour_ago():
    return timezone.now() - timedelta(hours=1)
