"""emit(): the event and its deliveries in the caller's transaction, queued on commit (SPEC section 3)."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from channels.models import Channel
from deliveries.fanout import emit_event
from deliveries.models import Delivery, DeliveryStatus
from events.exceptions import EventConflict, PayloadTooLarge
from events.models import Event, Order
from events.services import emit
from tests.support.factories import enable, ensure_catalogue, postback_channel, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels_for_contact_created():
    shop_only = postback_channel("http://127.0.0.1:9/shop", name="shop only")
    everywhere = postback_channel("http://127.0.0.1:9/all", name="all sources")
    subscribe(shop_only, "contact.created", sources=["shop"])
    subscribe(everywhere, "contact.created")
    return shop_only, everywhere


def test_emit_writes_one_event_and_one_pending_delivery_per_matching_subscription(channels_for_contact_created):
    shop_only, everywhere = channels_for_contact_created

    event = emit("contact.created", source="shop", payload={"contact": {"id": 1}}, order_ref="A-1")

    deliveries = Delivery.objects.filter(event=event)
    assert {d.channel_id for d in deliveries} == {shop_only.pk, everywhere.pk}
    assert all(d.status == DeliveryStatus.PENDING and d.next_attempt_at is not None for d in deliveries)
    assert all(d.event_type_id == "contact.created" and d.source == "shop" for d in deliveries)
    stored = Event.objects.get(pk=event.pk)
    assert stored.payload == {"contact": {"id": 1}} and stored.order_ref == "A-1"
    # The payload is stored once, on the event: a delivery has no payload column at all.
    assert "payload" not in {f.name for f in Delivery._meta.get_fields()}


def test_source_filter_leaves_out_subscriptions_for_other_sources(channels_for_contact_created):
    _, everywhere = channels_for_contact_created

    event = emit("contact.created", source="funnel", payload={})

    assert list(Delivery.objects.filter(event=event).values_list("channel_id", flat=True)) == [everywhere.pk]


def test_inactive_subscriptions_and_channels_get_no_delivery(channels_for_contact_created):
    shop_only, everywhere = channels_for_contact_created
    Channel.objects.filter(pk=shop_only.pk).update(active=False)
    everywhere.subscriptions.update(active=False)

    event = emit("contact.created", source="shop", payload={})

    assert not Delivery.objects.filter(event=event).exists()


def test_disabled_event_type_stores_the_event_with_no_deliveries(channels_for_contact_created):
    enable("contact.created", enabled=False)

    event = emit("contact.created", source="shop", payload={"x": 1})

    assert Event.objects.filter(pk=event.pk).exists()
    assert not Delivery.objects.filter(event=event).exists()


def test_deliveries_are_queued_only_when_the_transaction_commits(
    channels_for_contact_created, kicks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            emit("contact.created", source="shop", payload={})
            assert kicks == []  # not yet: the caller's transaction is still open

    assert len(callbacks) == 1
    assert kicks == [1]


def test_a_rolled_back_transaction_writes_nothing_and_queues_nothing(
    channels_for_contact_created, kicks, django_capture_on_commit_callbacks
):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom):
            with transaction.atomic():
                emit("contact.created", source="shop", payload={}, order_ref="R-1")
                raise Boom

    assert callbacks == [] and kicks == []
    assert not Event.objects.exists() and not Delivery.objects.exists() and not Order.objects.exists()


def test_same_event_id_and_content_returns_the_stored_event_and_creates_nothing(channels_for_contact_created):
    event_id = uuid.uuid4()
    first, created = emit_event("contact.created", source="shop", payload={"a": 1}, event_id=event_id)

    again, created_again = emit_event("contact.created", source="shop", payload={"a": 1}, event_id=str(event_id))

    assert created is True and created_again is False
    assert again.pk == first.pk == event_id
    assert Event.objects.count() == 1 and Delivery.objects.count() == 2


@pytest.mark.parametrize("key, payload", [("contact.created", {"a": 2}), ("refund.applied", {"a": 1})])
def test_same_event_id_with_other_content_is_a_conflict(channels_for_contact_created, key, payload):
    event_id = uuid.uuid4()
    emit("contact.created", source="shop", payload={"a": 1}, event_id=event_id)

    with pytest.raises(EventConflict):
        emit(key, source="shop", payload=payload, event_id=event_id)

    assert Event.objects.count() == 1 and Delivery.objects.count() == 2


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"key": "no.such.type"}, "type"),
        ({"source": "pos"}, "source"),
        ({"payload": ["not", "an", "object"]}, "payload"),
        ({"payload": "text"}, "payload"),
        ({"event_id": "not-a-uuid"}, "id"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-11-23T10:15:00"}, "occurred_at"),  # no time zone
        ({"order_ref": "x" * 101}, "order_ref"),
        ({"payload": {"s": "a\x00b"}}, "payload"),
        ({"payload": {"n": float("nan")}}, "payload"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field_and_writes_nothing(
    channels_for_contact_created, kwargs, field
):
    arguments = {"key": "contact.created", "source": "shop", "payload": {}, **kwargs}
    key = arguments.pop("key")

    with pytest.raises(ValidationError) as caught:
        emit(key, **arguments)

    assert field in caught.value.message_dict
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_payload_over_the_size_limit_is_payload_too_large(channels_for_contact_created, settings):
    settings.WEBHOOKS_MAX_PAYLOAD_BYTES = 1000

    with pytest.raises(PayloadTooLarge) as caught:
        emit("contact.created", source="shop", payload={"blob": "x" * 1000})

    assert "payload" in caught.value.message_dict
    assert not Event.objects.exists()


def test_payload_nested_deeper_than_any_real_payload_is_refused_without_recursion_error(channels_for_contact_created):
    payload = {}
    inner = payload
    for _ in range(100_000):
        inner["n"] = {}
        inner = inner["n"]

    with pytest.raises(ValidationError) as caught:
        emit("contact.created", source="shop", payload=payload)

    assert "payload" in caught.value.message_dict


def test_payload_failing_the_types_json_schema_is_refused_naming_payload():
    enable("order.completed")

    with pytest.raises(ValidationError) as caught:
        emit("order.completed", source="shop", payload={"order": {"number": 1}})

    assert "payload" in caught.value.message_dict
    assert "id" in caught.value.message_dict["payload"][0]
    assert not Event.objects.exists()


def test_payload_matching_the_schema_is_accepted():
    enable("order.completed")

    event = emit("order.completed", source="shop", payload={"order": {"id": "A-1"}})

    assert event.type_id == "order.completed"


def test_order_ref_keeps_one_order_row_with_the_latest_event_time():
    enable("order.completed")

    first = emit("order.completed", source="shop", payload={"order": {"id": "A-9"}}, order_ref="A-9")
    second = emit("order.completed", source="admin", payload={"order": {"id": "A-9"}}, order_ref="A-9")

    order = Order.objects.get(ref="A-9")
    assert order.first_event_at == first.created_at
    assert order.last_event_at == second.created_at


def test_occurred_at_and_triggered_by_are_stored(django_user_model):
    user = django_user_model.objects.create_user(username="ada")

    event = emit("contact.created", source="admin", payload={}, occurred_at="2026-11-23T10:15:00Z", triggered_by=user)

    event.refresh_from_db()
    assert event.occurred_at.isoformat() == "2026-11-23T10:15:00+00:00"
    assert event.triggered_by == user


def test_the_text_backslash_u0000_is_an_ordinary_string_and_accepted():
    event = emit("contact.created", source="shop", payload={"note": "\\u0000 is how JSON spells NUL", "\\u0000": 1})

    event.refresh_from_db()
    assert event.payload["note"].startswith("\\u0000")


def test_nul_in_a_key_is_refused_naming_payload():
    with pytest.raises(ValidationError) as caught:
        emit("contact.created", source="shop", payload={"a\x00": 1})

    assert "payload" in caught.value.message_dict


def test_an_anonymous_trigger_user_is_stored_as_nobody():
    from django.contrib.auth.models import AnonymousUser

    event = emit("contact.created", source="shop", payload={}, triggered_by=AnonymousUser())

    assert event.triggered_by is None


@pytest.fixture
def catalogue():
    ensure_catalogue()  # a transactional test starts from an empty database


@pytest.mark.django_db(transaction=True)
def test_emit_with_the_routing_rows_kept_only_writes(catalogue, channels_for_contact_created, settings):
    # given the routing rows kept per process (a shared cache) and one emit that read them
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels import routing

    settings.WEBHOOKS_ROUTING_CACHE = "on"
    try:
        with transaction.atomic():
            emit("contact.created", source="shop", payload={"contact": {"id": 1}}, order_ref="A-1")
        # when another event is emitted in a transaction of its own
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            event = emit("contact.created", source="shop", payload={"contact": {"id": 2}}, order_ref="A-2")
    finally:
        routing.changed()
    # then it writes the event, its two deliveries and the order, and reads nothing, with no savepoint:
    # one statement on PostgreSQL, three on SQLite (the transaction's BEGIN and COMMIT are not counted)
    sql = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")]
    assert len(sql) == (1 if connection.vendor == "postgresql" else 3)
    assert all(s.startswith(("INSERT", "WITH")) for s in sql)
    assert all(f'"{table}"' in " ".join(sql) for table in ("events_event", "deliveries_delivery", "events_order"))
    assert Delivery.objects.filter(event=event).count() == 2
    assert Order.objects.get(ref="A-2").last_event_at == Event.objects.get(pk=event.pk).created_at


def test_emit_with_a_given_id_reads_it_first_and_writes_in_a_savepoint(
    channels_for_contact_created, settings, django_assert_num_queries
):
    # given the routing cache off (no shared cache): the type and subscriptions are read each time
    from django.db import connection

    settings.WEBHOOKS_ROUTING_CACHE = "off"
    # when an event with the caller's id is emitted
    # then: type, id looked up, savepoint, subscriptions, event + deliveries + order (one statement on
    # PostgreSQL, three on SQLite), release
    with django_assert_num_queries(6 if connection.vendor == "postgresql" else 8):
        event = emit("contact.created", source="shop", payload={}, event_id=uuid.uuid4(), order_ref="A-1")
    assert Delivery.objects.filter(event=event).count() == 2 and Order.objects.filter(ref="A-1").exists()


def test_on_sqlite_without_a_shared_cache_the_routing_version_is_kept_in_a_file(
    channels_for_contact_created, settings, tmp_path
):
    # given no shared cache (the tests' local memory) and a routing version file, the production default on SQLite
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels import routing

    settings.WEBHOOKS_ROUTING_CACHE = "auto"
    settings.WEBHOOKS_ROUTING_VERSION_FILE = str(tmp_path / "db.sqlite3-routing")
    assert routing.enabled() is True
    try:
        with transaction.atomic():
            emit("contact.created", source="shop", payload={})
        # when another event is emitted: the type and subscriptions are not read again
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            emit("contact.created", source="shop", payload={})
        assert not [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
        # and when another process announces a change (it replaces the file), the next emit reads them again
        version = (tmp_path / "db.sqlite3-routing").read_text()
        routing._write_version_file(settings.WEBHOOKS_ROUTING_VERSION_FILE)
        assert (tmp_path / "db.sqlite3-routing").read_text() != version
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            event = emit("contact.created", source="shop", payload={})
        assert len([q for q in queries.captured_queries if q["sql"].startswith("SELECT")]) == 2
        assert Delivery.objects.filter(event=event).count() == 2
        # and a change made here (a channel switched off) applies to the next emit at once
        shop_only, _ = channels_for_contact_created
        shop_only.active = False
        shop_only.save()
        assert Delivery.objects.filter(event=emit("contact.created", source="shop", payload={})).count() == 1
    finally:
        routing.changed()


def test_an_emit_looks_at_the_routing_version_once(channels_for_contact_created, settings, monkeypatch):
    from channels import routing

    settings.WEBHOOKS_ROUTING_CACHE = "on"
    seen = []
    real = routing._read_version
    monkeypatch.setattr(routing, "_read_version", lambda source: seen.append(source) or real(source))
    try:
        emit("contact.created", source="shop", payload={})
    finally:
        routing.changed()
    assert seen == ["cache"]


def test_an_event_type_with_deliveries_cannot_be_deleted(channels_for_contact_created):
    # the deliveries' event_type has no constraint in the database (it is the event's own type): Django's
    # PROTECT, and the event's own foreign key, still keep the type
    from django.db.models import ProtectedError

    from events.models import EventType

    emit("contact.created", source="shop", payload={})

    with pytest.raises(ProtectedError):
        EventType.objects.get(pk="contact.created").delete()
    assert {d.event_type_id for d in Delivery.objects.all()} == {Event.objects.get().type_id} == {"contact.created"}
