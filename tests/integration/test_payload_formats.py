"""Every payload format end to end (SPEC section 12): events emitted here, sent by a real ``qcluster``,
read by receivers written from the seed files (``tests.support.seed_receivers``), signatures verified
with ``standardwebhooks``."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from deliveries.models import Delivery, DeliveryStatus
from events.services import emit
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Reply, wait_until
from tests.support.seed_receivers import parse_fakturia, parse_flat, parse_nitrobox, verify_signature

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DOCUMENT = {
    "documentId": "INV-2025-00123",
    "externalStatus": "APPROVED",
    "currentStatus": "OK",
    "flowDetail": "VERIFACTU",
}
CUSTOMER = {"customer": {"customerNumber": "K1234", "email": "mail@example.net"}}


def test_each_format_is_read_by_its_seeds_receiver_from_a_real_cluster(catalogue, receiver, clusters):
    # Given one channel per format, a fakturia endpoint that answers 503 once, and a cluster in Berlin
    fakturia = postback_channel(receiver.url("/fakturia"), name="fakturia", format="fakturia")
    nitrobox = postback_channel(receiver.url("/nitrobox"), name="nitrobox", format="nitrobox")
    flat = postback_channel(receiver.url("/flat"), name="flat", format="flat")
    fakturia_config = subscribe(fakturia, "customer.created")
    subscribe(nitrobox, "customer.created")
    subscribe(nitrobox, "contract.canceled")
    subscribe(flat, "document.status_changed")
    answers = {"count": 0}

    def flaky(request):
        answers["count"] += 1
        return Reply(503) if answers["count"] == 1 else Reply()

    receiver.reply("/fakturia", flaky)
    user = get_user_model().objects.create_user(username="holger")
    clusters(env={"TIME_ZONE": "Europe/Berlin", "WEBHOOKS_RETRY_DELAYS": "1,1,1"}).start()

    # When the platform emits, by key and by native name
    with transaction.atomic():
        customer = emit(
            "CUSTOMER_CREATED", source="shop", payload=CUSTOMER, triggered_by=user, occurred_at="2026-07-01T08:30:00Z"
        )
        contract = emit("contract.canceled", source="admin", payload={"contract": {"id": "C-77"}})
        document = emit("DOCUMENT_STATUS_CHANGED", source="admin", payload=DOCUMENT)

    # Then every receiver gets its format, signed, once succeeded (fakturia on its retry)
    wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 4,
        timeout=60,
        message="4 deliveries succeeded",
    )
    first, retry = receiver.on("/fakturia")
    for request, retry_count in ((first, 0), (retry, 1)):
        verify_signature(fakturia.secret, request.body, request.headers)
        webhook = parse_fakturia(request.body)
        assert webhook.event_type == "CUSTOMER_CREATED" and webhook.retry_count == retry_count
        assert webhook.trigger_date == dt.datetime(2026, 7, 1, 10, 30)  # CEST, in the cluster's TIME_ZONE
        assert webhook.trigger_user == "holger" and webhook.webhook_config == fakturia_config.pk
        assert webhook.payload == CUSTOMER
        assert request.webhook_id == str(customer.pk)

    nitrobox_seen = {}
    for request in receiver.on("/nitrobox"):
        verify_signature(nitrobox.secret, request.body, request.headers)
        notification = parse_nitrobox(request.body)
        nitrobox_seen[notification.identifier] = notification.event_id
    assert nitrobox_seen == {"customer.created": str(customer.pk), "contract.cancelled": str(contract.pk)}

    [request] = receiver.on("/flat")
    verify_signature(flat.secret, request.body, request.headers)
    notification = parse_flat(request.body)
    assert notification.event_id == str(document.pk) and notification.event_type == "DOCUMENT_STATUS_CHANGED"
    assert {k: notification.fields[k] for k in DOCUMENT} == DOCUMENT
    for request in receiver.requests:
        print(f"\n{request.path}: {request.body.decode()}")
