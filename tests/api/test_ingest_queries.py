"""POST events/ reads little: a bounded number of statements, fewer once the routing rows are kept per
process, and a change of subscriptions or channels applies to the very next event."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels import routing
from channels.models import Channel, ChannelKind, Subscription
from channels.services import attach_channel
from deliveries.alerting.auto_disable import _disable
from deliveries.alerting.reenable import reenable_channel
from deliveries.models import Delivery
from events.models import EventType
from tests.support.factories import ensure_catalogue

# Committed for real: the routing cache is not used by a transaction that changed routing rows.
pytestmark = pytest.mark.django_db(transaction=True)

ORDER = {"order": {"id": "A-1001", "total": "49.90"}}


def ingest(client, n: int):
    body = {"type": "order.completed", "source": "shop", "payload": ORDER, "order_ref": f"A-{n}"}
    response = client.post("/api/v1/events/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def superuser_api(make_client):
    client = make_client()
    client.user.is_superuser = True
    client.user.save()
    return client


@pytest.fixture
def order_completed(db, receiver):
    ensure_catalogue()
    event_type = EventType.objects.get(key="order.completed")
    event_type.enabled = True
    event_type.save(update_fields=["enabled"])
    channel = Channel.objects.create(name="receiver", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))
    Subscription.objects.create(event_type=event_type, channel=channel, source_admin=False)
    return event_type


@pytest.fixture
def routing_cache(settings):
    settings.WEBHOOKS_ROUTING_CACHE = "on"  # the tests' cache is per process: so is the test
    yield
    routing.changed()


def test_one_ingest_without_the_routing_cache_is_at_most_ten_statements(
    superuser_api, order_completed, django_assert_max_num_queries, settings
):
    # given the routing cache off (a cache other processes cannot see) and a warm process
    settings.WEBHOOKS_ROUTING_CACHE = "off"
    ingest(superuser_api, 0)
    # then one ingest is: token, event type, savepoint, event, subscriptions, delivery, order, release
    with django_assert_max_num_queries(10):
        ingest(superuser_api, 1)


def test_with_the_routing_cache_the_event_type_and_subscriptions_are_not_read_again(
    superuser_api, order_completed, routing_cache
):
    # given one ingest that read the routing rows
    ingest(superuser_api, 0)
    # when another event comes
    with CaptureQueriesContext(connection) as queries:
        body = ingest(superuser_api, 1)
    # then neither the event type nor the subscriptions are read, and the delivery is still made
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"events_eventtype"' not in sql and '"channels_subscription"' not in sql
    assert len(queries.captured_queries) <= 8
    assert len(body["deliveries"]) == 1


def test_a_subscription_attached_meanwhile_applies_to_the_next_event(superuser_api, order_completed, routing_cache):
    # given the routing rows kept after one ingest
    ingest(superuser_api, 0)
    # when staff attach a second channel
    second = Channel.objects.create(name="second", kind=ChannelKind.POSTBACK, url="https://hooks.example.net/2")
    attach_channel(event_type=order_completed, channel=second, sources=["shop"])
    # then the next event goes to both
    body = ingest(superuser_api, 1)
    assert sorted(Delivery.objects.filter(pk__in=body["deliveries"]).values_list("channel__name", flat=True)) == [
        "receiver",
        "second",
    ]


def test_a_channel_disabled_or_a_type_switched_off_meanwhile_applies_to_the_next_event(
    superuser_api, order_completed, routing_cache
):
    # given the routing rows kept after one ingest
    ingest(superuser_api, 0)
    # when the channel is switched off (an update(), as automatic disabling does it) ...
    Channel.objects.filter(name="receiver").update(active=False)
    routing.changed()
    # then the next event makes no delivery
    assert ingest(superuser_api, 1)["deliveries"] == []
    # and when it is on again but the event type is disabled, still none
    channel = Channel.objects.get(name="receiver")
    channel.active = True
    channel.save()
    assert len(ingest(superuser_api, 2)["deliveries"]) == 1
    order_completed.enabled = False
    order_completed.save(update_fields=["enabled"])
    assert ingest(superuser_api, 3)["deliveries"] == []


def test_a_transaction_that_changed_subscriptions_keeps_nothing_it_might_roll_back(
    superuser_api, order_completed, routing_cache
):
    # given the routing rows kept
    assert routing.matching({order_completed.pk})[(order_completed.pk, "shop")]
    # when a transaction switches the subscription off, reads the rows, then rolls back
    with pytest.raises(RuntimeError), transaction.atomic():
        Subscription.objects.update(active=False)
        routing.changed()
        assert routing.matching({order_completed.pk}) == {}
        raise RuntimeError("rolled back")
    # then the next event still gets its delivery
    assert len(ingest(superuser_api, 1)["deliveries"]) == 1


def test_automatic_disabling_and_reenabling_tell_the_routing_cache(order_completed, routing_cache, admin_user):
    channel = Channel.objects.get(name="receiver")
    # given the routing rows kept
    assert routing.matching({order_completed.pk})[(order_completed.pk, "shop")]
    # when the platform disables the channel, the kept rows no longer list it; re-enabled, again
    assert _disable(channel_id=channel.pk, reason="test", now=timezone.now())
    assert routing.matching({order_completed.pk}) == {}
    assert reenable_channel(actor=admin_user, channel=channel)
    assert routing.matching({order_completed.pk})[(order_completed.pk, "shop")]


def test_with_the_shared_cache_unreachable_ingest_reads_the_database(
    superuser_api, order_completed, routing_cache, monkeypatch
):
    # given the routing rows kept after one ingest
    ingest(superuser_api, 0)

    # when the shared cache goes away (Redis down) and staff attach a second channel meanwhile
    class Unreachable:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                raise ConnectionError("cache down")

            return call

    monkeypatch.setattr(routing, "cache", Unreachable())
    second = Channel.objects.create(name="second", kind=ChannelKind.POSTBACK, url="https://hooks.example.net/2")
    attach_channel(event_type=order_completed, channel=second, sources=["shop"])

    # then ingest still answers, from the database: the new channel gets its delivery
    body = ingest(superuser_api, 1)
    assert len(body["deliveries"]) == 2


def test_kept_routing_rows_are_read_again_after_their_maximum_age(
    superuser_api, order_completed, routing_cache, monkeypatch
):
    # given the routing rows kept, and a change the other processes never heard of (a lost bump)
    second = Channel.objects.create(name="second", kind=ChannelKind.POSTBACK, url="https://hooks.example.net/2")
    assert len(routing.matching({order_completed.pk})[(order_completed.pk, "shop")]) == 1
    Subscription.objects.bulk_create([Subscription(event_type=order_completed, channel=second)])  # no signal
    assert len(routing.matching({order_completed.pk})[(order_completed.pk, "shop")]) == 1

    # when the maximum age has passed
    monkeypatch.setattr(routing.time, "monotonic", lambda: routing._local["since"] + routing.MAX_AGE_S + 1)

    # then the rows are read again and the new subscription is seen
    assert len(routing.matching({order_completed.pk})[(order_completed.pk, "shop")]) == 2


def test_by_default_a_cache_other_processes_cannot_see_keeps_nothing(settings, order_completed):
    # given the default mode and the tests' cache, local memory (what a run without REDIS_URL has)
    settings.WEBHOOKS_ROUTING_CACHE = "auto"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # then the routing rows are not kept: another process could not be told of a change
    assert routing.enabled() is False
    # and with a shared cache (Redis) they are
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert routing.enabled() is True
