"""Detail pages run a fixed number of queries however many rows they show."""

import pytest
from django.urls import reverse

from channels.models import Channel, ChannelKind, Subscription
from deliveries.models import Attempt, Trigger
from events.models import EventType

pytestmark = pytest.mark.django_db


def assert_constant_queries(client, url, grow, django_assert_max_num_queries):
    with django_assert_max_num_queries(20) as before:
        assert client.get(url).status_code == 200
    grow()
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get(url).status_code == 200


def test_event_type_page(admin_client, django_assert_max_num_queries):
    def attach_more():
        for i in range(12):
            channel = Channel.objects.create(name=f"c{i}", kind=ChannelKind.POSTBACK, url=f"http://127.0.0.1:9/{i}")
            Subscription.objects.create(event_type_id="order.completed", channel=channel)

    Subscription.objects.create(
        event_type_id="order.completed",
        channel=Channel.objects.create(name="first", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/f"),
    )
    url = reverse("admin:events_eventtype_change", args=["order.completed"])
    assert_constant_queries(admin_client, url, attach_more, django_assert_max_num_queries)


def test_attach_page(admin_client, django_assert_max_num_queries):
    def more_channels():
        for i in range(12):
            Channel.objects.create(name=f"c{i}", kind=ChannelKind.POSTBACK, url=f"http://127.0.0.1:9/{i}")

    Channel.objects.create(name="first", kind=ChannelKind.POSTBACK, url="http://127.0.0.1:9/f")
    url = reverse("admin:events_eventtype_attach", args=["order.completed"])
    assert_constant_queries(admin_client, url, more_channels, django_assert_max_num_queries)


def test_delivery_page(admin_client, make_delivery, postback_channel, django_assert_max_num_queries):
    delivery = make_delivery(channel=postback_channel, attempts=1)

    def more_attempts():
        for number in range(2, 10):
            Attempt.objects.create(
                delivery=delivery,
                number=number,
                started_at=delivery.created_at,
                trigger=Trigger.MANUAL,
                triggered_by=None,
                response_status=500,
            )

    url = reverse("admin:deliveries_delivery_change", args=[delivery.pk])
    assert_constant_queries(admin_client, url, more_attempts, django_assert_max_num_queries)


def test_channel_page(admin_client, make_delivery, postback_channel, django_assert_max_num_queries):
    make_delivery(channel=postback_channel, key="test", attempts=1, response_status=200, status="succeeded")
    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)

    def more_history():
        for _ in range(4):
            make_delivery(channel=postback_channel, key="test", attempts=1, response_status=200, status="succeeded")
        for key in ("refund.applied", "transaction.approved", "transaction.declined"):
            Subscription.objects.create(event_type_id=key, channel=postback_channel)

    url = reverse("admin:channels_channel_change", args=[postback_channel.pk])
    assert_constant_queries(admin_client, url, more_history, django_assert_max_num_queries)


def test_system_notifications_counts_are_right_per_type(admin_client, postback_channel, email_channel):
    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    Subscription.objects.create(event_type_id="order.completed", channel=email_channel)
    response = admin_client.get(reverse("admin:events_eventtype_changelist"))
    counts = {et.key: et.channel_count for c in response.context["categories"] for et in c.event_types}
    assert counts["order.completed"] == 2
    assert sum(counts.values()) == 2
    assert len(counts) == EventType.objects.count()
