"""Payload formats (SPEC section 12), in this process: each format's body as its seed's receiver reads it,
the test event in every format, the rules of attaching, ingest by native name and the flat clash.

The receivers are ``tests.support.seed_receivers``: written from the seed files, not from our code.
End to end through a real qcluster: ``tests/integration/test_payload_formats.py``.
"""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError

from channels.kinds import ChannelKind
from channels.models import Channel
from channels.services import attach_channel, create_channel, update_channel
from deliveries.models import Attempt
from deliveries.selectors import attempt_request_body
from deliveries.services import send_test_event
from events.models import Event, EventType
from events.services import emit
from tests.engine.helpers import deliver_now
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Reply
from tests.support.seed_receivers import (
    parse_fakturia,
    parse_flat,
    parse_nitrobox,
    verify_signature,
)

pytestmark = pytest.mark.django_db

OCCURRED = "2026-11-23T10:15:00Z"
CUSTOMER = {"customer": {"customerNumber": "K1234", "firstName": "Holger", "lastName": "Tester"}}
DOCUMENT = {
    "documentId": "INV-2025-00123",
    "externalStatus": "APPROVED",
    "currentStatus": "OK",
    "flowDetail": "VERIFACTU",
}


def test_fakturia_body_is_seed_001s_webhook_with_local_trigger_date(receiver, settings, django_user_model):
    # Given a fakturia channel attached to customer.created, on a platform in Berlin
    settings.TIME_ZONE = "Europe/Berlin"
    channel = postback_channel(receiver.url("/fakturia"), format="fakturia")
    subscription = subscribe(channel, "customer.created")
    user = django_user_model.objects.create_user(username="holger")

    # When a customer is created at 10:15 UTC by holger
    event = emit("customer.created", source="shop", payload=CUSTOMER, triggered_by=user, occurred_at=OCCURRED)
    deliver_now()

    # Then the receiver written from seed 001 reads it, signed, in Berlin's local time (UTC+1 in November)
    [request] = receiver.requests
    verify_signature(channel.secret, request.body, request.headers)
    webhook = parse_fakturia(request.body)
    assert webhook.event_type == "CUSTOMER_CREATED"
    assert webhook.trigger_date == dt.datetime(2026, 11, 23, 11, 15, 0)
    assert json.loads(request.body)["triggerDate"] == "2026-11-23T11:15:00"
    assert webhook.trigger_user == "holger"
    assert webhook.webhook_config == subscription.pk
    assert webhook.retry_count == 0
    assert webhook.payload == CUSTOMER
    # The body has no eventId: the event's id is the webhook-id header
    assert request.headers["webhook-id"] == str(event.pk)


def test_fakturia_retry_counts_earlier_attempts_with_the_same_webhook_id(receiver, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [0, 0, 0]
    channel = postback_channel(receiver.url("/fakturia"), format="fakturia")
    subscribe(channel, "customer.created")
    answers = iter([Reply(503), Reply(503), Reply(200)])
    receiver.reply("/fakturia", lambda request: next(answers))

    emit("customer.created", source="shop", payload=CUSTOMER)
    for _ in range(3):
        deliver_now()

    assert [parse_fakturia(r.body).retry_count for r in receiver.requests] == [0, 1, 2]
    assert len({r.webhook_id for r in receiver.requests}) == 1
    for request in receiver.requests:
        verify_signature(channel.secret, request.body, request.headers)
    # The attempt log rebuilds each attempt's body as it was sent
    attempts = Attempt.objects.select_related(
        "delivery__event__triggered_by", "delivery__channel", "delivery__event_type"
    ).order_by("number")
    assert [attempt_request_body(a).encode() for a in attempts] == [r.body for r in receiver.requests]


def test_nitrobox_body_is_the_envelope_with_seed_000s_identifiers(receiver):
    channel = postback_channel(receiver.url("/nitrobox"), format="nitrobox")
    subscribe(channel, "contract.canceled")
    subscribe(channel, "payment_assignment.processed")

    contract = emit("contract.canceled", source="admin", payload={"contract": {"id": "C-77"}}, occurred_at=OCCURRED)
    emit("payment_assignment.processed", source="admin", payload={"payment": {"id": "P-42"}})
    deliver_now()

    notifications = {}
    for request in receiver.requests:
        verify_signature(channel.secret, request.body, request.headers)
        parsed = parse_nitrobox(request.body)
        notifications[parsed.identifier] = parsed
    assert set(notifications) == {"contract.cancelled", "paymentAssignment.processed"}
    cancelled = notifications["contract.cancelled"]
    assert cancelled.event_id == str(contract.pk)
    assert cancelled.occurred_at == dt.datetime(2026, 11, 23, 10, 15, tzinfo=dt.UTC)
    assert cancelled.payload == {"contract": {"id": "C-77"}}


def test_flat_body_has_the_payload_fields_at_the_top_level(receiver):
    channel = postback_channel(receiver.url("/flat"), format="flat")
    subscribe(channel, "document.status_changed")

    event = emit("document.status_changed", source="admin", payload=DOCUMENT, occurred_at=OCCURRED)
    deliver_now()

    [request] = receiver.requests
    verify_signature(channel.secret, request.body, request.headers)
    notification = parse_flat(request.body)
    assert notification.event_id == str(event.pk) == request.headers["webhook-id"]
    assert notification.event_type == "DOCUMENT_STATUS_CHANGED"
    assert notification.fields == {
        "eventId": str(event.pk),
        "eventType": "DOCUMENT_STATUS_CHANGED",
        "occurredAt": "2026-11-23T10:15:00Z",
        **DOCUMENT,
    }


def test_standard_stays_the_envelope_of_section_4(receiver):
    channel = postback_channel(receiver.url("/standard"))
    subscribe(channel, "document.status_changed")

    emit("document.status_changed", source="admin", payload=DOCUMENT)
    deliver_now()

    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["eventType"] == "document.status_changed" and body["payload"] == DOCUMENT
    assert set(body) == {
        "eventId",
        "eventType",
        "occurredAt",
        "source",
        "triggerUser",
        "webhookConfig",
        "retryCount",
        "payload",
    }


@pytest.mark.parametrize(
    "payload_format, parse, name",
    [
        ("fakturia", lambda body: parse_fakturia(body).event_type, "TESTHOOK"),
        ("nitrobox", lambda body: json.loads(body)["eventType"], "test"),
        ("flat", lambda body: json.loads(body)["eventType"], "test"),
        ("standard", lambda body: json.loads(body)["eventType"], "test"),
    ],
)
def test_the_test_event_goes_out_in_every_format(receiver, admin_user, payload_format, parse, name):
    channel = postback_channel(receiver.url("/test"), format=payload_format)

    attempt = send_test_event(channel=channel, user=admin_user)

    assert attempt.succeeded
    [request] = receiver.requests
    verify_signature(channel.secret, request.body, request.headers)
    assert parse(request.body) == name
    body = json.loads(request.body)
    dummy = EventType.objects.get(pk="test").example_payload["dummyData"]
    if payload_format == "flat":
        assert body["dummyData"] == dummy  # the payload's fields at the top level
    else:
        assert body["payload"] == {"dummyData": dummy}  # seed 001: "Attribute: dummyData Type: Dummy"


# --- Attaching: only the types a channel's format names ------------------------------------


def test_attaching_a_type_the_format_does_not_name_is_refused_naming_its_formats(admin_user):
    channel = create_channel(name="ERP", url="http://127.0.0.1:9/erp", format="fakturia", user=admin_user)

    with pytest.raises(ValidationError) as refused:
        attach_channel(
            event_type=EventType.objects.get(pk="order.completed"), channel=channel, sources=["shop"], user=admin_user
        )

    [message] = refused.value.message_dict["channel"]
    assert "order.completed" in message and "fakturia" in message and "formats: standard" in message
    assert not channel.subscriptions.exists()
    # A type the format names attaches
    attach_channel(event_type=EventType.objects.get(pk="customer.created"), channel=channel, sources=["shop"])


def test_a_format_change_that_would_leave_an_attached_type_unnamed_is_refused(admin_user):
    channel = create_channel(name="ERP", url="http://127.0.0.1:9/erp", user=admin_user)
    attach_channel(event_type=EventType.objects.get(pk="order.completed"), channel=channel, sources=["shop"])

    with pytest.raises(ValidationError) as refused:
        update_channel(channel=channel, changes={"format": "nitrobox"}, user=admin_user)

    assert "order.completed" in refused.value.message_dict["format"][0]
    assert Channel.objects.get(pk=channel.pk).format == "standard"


def test_only_postback_channels_have_a_format(admin_user):
    with pytest.raises(ValidationError) as refused:
        create_channel(name="Ops", kind=ChannelKind.EMAIL, email_to="ops@example.com", format="flat", user=admin_user)
    assert "format" in refused.value.message_dict


# --- Ingest by native name --------------------------------------------------------------


def test_emit_accepts_a_native_name_and_stores_the_catalogue_key():
    event = emit("CUSTOMER_CREATED", source="shop", payload=CUSTOMER)
    cancelled = emit("contract.cancelled", source="shop", payload={"contract": {"id": "C-77"}})

    assert Event.objects.get(pk=event.pk).type_id == "customer.created"
    assert Event.objects.get(pk=cancelled.pk).type_id == "contract.canceled"
    # The same id again, by key or by another of its names, is the same event
    assert emit("customer.created", source="shop", payload=CUSTOMER, event_id=event.pk).pk == event.pk
    assert emit("CUSTOMER_CREATED", source="shop", payload=CUSTOMER, event_id=event.pk).pk == event.pk
    assert Event.objects.count() == 2


# --- Flat: a payload key that would overwrite the envelope's ---------------------------------


@pytest.mark.parametrize("key", ["eventId", "eventType", "occurredAt"])
def test_a_flat_type_refuses_a_payload_key_the_flat_body_uses(key):
    with pytest.raises(ValidationError) as refused:
        emit("DOCUMENT_STATUS_CHANGED", source="admin", payload={**DOCUMENT, key: "mine"})

    [message] = refused.value.message_dict["payload"]
    assert key in message and "flat" in message
    assert not Event.objects.exists()


def test_a_type_no_flat_channel_can_get_keeps_any_payload_key():
    event = emit("order.completed", source="shop", payload={"order": {"id": "A-1"}, "eventId": "mine"})
    assert event.payload["eventId"] == "mine"


def test_the_readme_examples_are_read_by_the_seed_receivers_and_shaped_as_sent(receiver):
    """The README's bodies per format (copied from the demo) against its seed's receiver and a body sent now."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Payload formats", 1)[1].split("\n## ", 1)[0]
    examples = dict(re.findall(r"\*\*`(\w+)`\*\*.*?```json\n(.*?)\n```", section, re.S))
    assert set(examples) == {"standard", "fakturia", "nitrobox", "flat"}
    parse_fakturia(examples["fakturia"].encode())
    parse_nitrobox(examples["nitrobox"].encode())
    parse_flat(examples["flat"].encode())
    for payload_format, key in [
        ("standard", "customer.created"),
        ("fakturia", "customer.created"),
        ("nitrobox", "contract.canceled"),
        ("flat", "document.status_changed"),
    ]:
        channel = postback_channel(receiver.url(f"/{payload_format}"), name=payload_format, format=payload_format)
        subscribe(channel, key)
    emit("customer.created", source="shop", payload=CUSTOMER)
    emit("contract.canceled", source="shop", payload={"contract": {"id": "C-77"}})
    emit("document.status_changed", source="shop", payload=DOCUMENT)
    deliver_now()
    for payload_format, example in examples.items():
        [request] = receiver.on(f"/{payload_format}")
        sent, shown = list(json.loads(request.body)), list(json.loads(example))
        # The envelope's fields in order; a flat body's payload fields in the order the database keeps
        # them (PostgreSQL's jsonb sorts keys), so as a set.
        assert sent[:3] == shown[:3] and set(sent) == set(shown), payload_format
        if payload_format != "flat":
            assert sent == shown, payload_format
