"""Rows for the operations tests: deliveries with finished attempts, heartbeats, breakers."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from channels.models import Channel, ChannelKind
from deliveries.models import Attempt, Delivery, DeliveryStatus, WorkerHeartbeat
from events.models import Event, EventType

_numbers = itertools.count(1)


@pytest.fixture
def channel(db):
    return Channel.objects.create(name="Shop backend", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/hook")


@pytest.fixture
def make_channel(db):
    def make(name=None, **fields):
        return Channel.objects.create(
            name=name or f"channel {next(_numbers)}", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/h", **fields
        )

    return make


@pytest.fixture
def make_delivery(db):
    """A delivery to ``channel``; ``attempts`` is a list of (duration_ms, error) finished attempts."""

    def make(*, channel, status=DeliveryStatus.SUCCEEDED, attempts=(), next_attempt_at=None):
        event_type = EventType.objects.get(key="contact.created")
        now = timezone.now()
        event = Event.objects.create(type=event_type, source="shop", occurred_at=now, payload={})
        delivery = Delivery.objects.create(
            event=event,
            channel=channel,
            event_type=event_type,
            source="shop",
            status=status,
            next_attempt_at=next_attempt_at,
            attempt_count=len(attempts),
        )
        for number, (duration_ms, error) in enumerate(attempts, start=1):
            Attempt.objects.create(
                delivery=delivery,
                number=number,
                started_at=now,
                finished_at=now,
                duration_ms=duration_ms,
                response_status=None if error in ("timeout", "connection") else (500 if error else 200),
                error=error,
            )
        return delivery

    return make


@pytest.fixture
def beat(db):
    """Write a heartbeat of ``kind`` seen ``age_s`` seconds ago."""

    def write(kind=WorkerHeartbeat.Kind.ENGINE, *, age_s=0.0, key=None, in_flight=0):
        return WorkerHeartbeat.objects.update_or_create(
            key=key or (f"host:{next(_numbers)}" if kind == WorkerHeartbeat.Kind.ENGINE else kind),
            defaults={
                "kind": kind,
                "host": "host",
                "seen_at": timezone.now() - timedelta(seconds=age_s),
                "in_flight": in_flight,
            },
        )[0]

    return write


@pytest.fixture
def make_staff(db, django_user_model):
    """A logged-in client for a user holding exactly ``perms``."""

    def make(*perms, is_staff=True):
        user = django_user_model.objects.create_user(username=f"u{next(_numbers)}", password="pw", is_staff=is_staff)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        client = Client()
        client.force_login(user)
        return client

    return make
