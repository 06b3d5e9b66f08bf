"""common.inserts.insert_rows stores exactly what bulk_create stores (emit's hot path writes through it)."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from common.inserts import insert_rows
from deliveries.fanout import new_delivery
from deliveries.models import Delivery
from events.models import Event, EventType
from tests.support.factories import postback_channel, subscribe

pytestmark = pytest.mark.django_db


WHEN = dt.datetime(2026, 11, 23, 10, 15, 0, 123456, tzinfo=dt.UTC)


def make_event(**fields):
    return Event(
        id=uuid.uuid4(),
        type=EventType.objects.get(pk="order.completed"),
        source="shop",
        occurred_at=WHEN,
        payload={"order": {"id": "A-1", "note": "ünï☃", "lines": [1, 2.5, None, True]}},
        order_ref="A-1",
        **fields,
    )


def stored(model, pk) -> dict:
    """Every column of the row, but those that differ between two writes (id, event, creation times)."""
    obj = model.objects.get(pk=pk)
    skip = {"id", "event_id", "created_at", "updated_at"}
    return {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields if f.attname not in skip}


def test_an_event_and_its_deliveries_are_stored_as_bulk_create_stores_them(admin_user):
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscription = subscribe(channel, "order.completed")
    # given two equal events, one written by insert_rows and one by bulk_create
    fast, slow = make_event(triggered_by=admin_user), make_event(triggered_by=admin_user)
    slow.created_at = None
    # when each is written with one delivery
    insert_rows([fast])
    Event.objects.bulk_create([slow])
    now = timezone.now()
    insert_rows([new_delivery(fast, subscription.pk, channel.pk, now=now)])
    Delivery.objects.bulk_create([new_delivery(slow, subscription.pk, channel.pk, now=now)])
    # then the stored rows are the same but for the id and the creation time
    assert stored(Event, fast.pk) == stored(Event, slow.pk)
    assert stored(Event, fast.pk)["payload"] == fast.payload
    assert Event.objects.get(pk=fast.pk).created_at is not None
    [fast_delivery] = Delivery.objects.filter(event=fast.pk)
    [slow_delivery] = Delivery.objects.filter(event=slow.pk)
    assert stored(Delivery, fast_delivery.pk) == stored(Delivery, slow_delivery.pk)
    assert fast_delivery.created_at is not None and fast_delivery.updated_at is not None
    # and the written instance counts as saved
    assert fast._state.adding is False


def test_several_rows_in_one_statement(django_assert_num_queries):
    events = [make_event() for _ in range(3)]
    with django_assert_num_queries(1):
        insert_rows(events)
    assert Event.objects.filter(pk__in=[e.pk for e in events]).count() == 3


def test_rows_by_reads_what_in_bulk_reads():
    # given event types with a schema (JSON), flags (booleans) and text
    keys = ["order.completed", "contact.created", "no.such.type"]
    # when read both ways
    from common.reads import rows_by

    fast, slow = rows_by(EventType, "key", keys), EventType.objects.in_bulk(keys)
    # then the same instances with the same values, of the right Python types
    assert fast.keys() == slow.keys() == {"order.completed", "contact.created"}
    for key, event_type in slow.items():
        got = fast[key]
        assert all(getattr(got, f.attname) == getattr(event_type, f.attname) for f in EventType._meta.concrete_fields)
        assert isinstance(got.enabled, bool) and got._state.adding is False
    assert isinstance(fast["order.completed"].payload_schema, dict)


def test_columns_at_their_default_are_literals_and_other_values_are_stored_as_given():
    from common.inserts import insert_statement
    from deliveries.models import DeliveryStatus

    channel = postback_channel("http://127.0.0.1:9/hook")
    subscription = subscribe(channel, "order.completed")
    event = make_event()
    insert_rows([event])
    now = timezone.now()
    # given one delivery at the defaults and one whose defaulted columns all hold other values
    plain = new_delivery(event, subscription.pk, channel.pk, now=now)
    other = new_delivery(event, subscription.pk, channel.pk, now=now)
    other.status, other.attempt_count, other.is_test = DeliveryStatus.FAILED, 3, True
    other.failure_reason, other.last_response_status, other.lease_expiries = "it's 100% down", 503, 2
    statement = insert_statement([plain, other])
    # then the defaults are in the text (fewer parameters), the other values are parameters
    assert "'pending'" in statement.sql and "it's" not in statement.sql
    assert len(statement.params) < 2 * 23 - 10
    insert_rows([plain, other])
    rows = {d.status: d for d in Delivery.objects.filter(event=event.pk)}
    assert (
        rows["pending"].attempt_count == 0 and rows["pending"].is_test is False and rows["pending"].failure_reason == ""
    )
    failed = rows["failed"]
    assert (failed.attempt_count, failed.is_test, failed.failure_reason) == (3, True, "it's 100% down")
    assert (failed.last_response_status, failed.lease_expiries) == (503, 2)
