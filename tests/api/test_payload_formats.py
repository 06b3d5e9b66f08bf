"""The payload format over the API (SPEC sections 8 and 12): the channel field, attach refusals, ingest by
native name, the flat clash, the types' names."""

import pytest

from channels.models import Channel, Subscription

pytestmark = pytest.mark.django_db

DOCUMENT = {"documentId": "INV-1", "externalStatus": "APPROVED", "currentStatus": "OK", "flowDetail": "VERIFACTU"}


def test_a_channel_is_created_with_a_format_and_shows_it(admin_api):
    created = admin_api.post(
        "/api/v1/channels/", {"name": "ERP", "url": "http://127.0.0.1:9/erp", "format": "fakturia"}, format="json"
    )

    assert created.status_code == 201 and created.json()["format"] == "fakturia"
    listed = admin_api.get("/api/v1/channels/").json()["results"]
    assert [c["format"] for c in listed] == ["fakturia"]
    default = admin_api.post("/api/v1/channels/", {"name": "Std", "url": "http://127.0.0.1:9/s"}, format="json")
    assert default.json()["format"] == "standard"


def test_an_unknown_format_is_a_400_naming_the_field(admin_api):
    response = admin_api.post(
        "/api/v1/channels/", {"name": "ERP", "url": "http://127.0.0.1:9/erp", "format": "xml"}, format="json"
    )
    assert response.status_code == 400 and "format" in response.json()["errors"]


def test_attaching_a_type_the_format_does_not_name_is_a_400_naming_the_formats(admin_api):
    channel = Channel.objects.create(name="flat", url="http://127.0.0.1:9/flat", format="flat")

    response = admin_api.post(
        "/api/v1/subscriptions/",
        {"event_type": "order.completed", "channel": channel.pk, "sources": ["shop"]},
        format="json",
    )

    assert response.status_code == 400
    [message] = response.json()["errors"]["channel"]
    assert "order.completed" in message and "flat format" in message and "formats: standard" in message
    assert not Subscription.objects.exists()
    ok = admin_api.post(
        "/api/v1/subscriptions/",
        {"event_type": "document.status_changed", "channel": channel.pk, "sources": ["shop"]},
        format="json",
    )
    assert ok.status_code == 201


def test_changing_the_format_under_an_unnamed_attachment_is_a_400(admin_api):
    channel = Channel.objects.create(name="std", url="http://127.0.0.1:9/std")
    Subscription.objects.create(event_type_id="order.completed", channel=channel)

    response = admin_api.patch(f"/api/v1/channels/{channel.pk}/", {"format": "fakturia"}, format="json")

    assert response.status_code == 400 and "order.completed" in response.json()["errors"]["format"][0]


def test_ingest_by_native_name_stores_and_answers_the_key(admin_api):
    response = admin_api.post(
        "/api/v1/events/",
        {"type": "CUSTOMER_CREATED", "source": "shop", "payload": {"customer": {"id": "K1"}}},
        format="json",
    )

    assert response.status_code == 201 and response.json()["type"] == "customer.created"
    detail = admin_api.get(f"/api/v1/events/{response.json()['id']}/").json()
    assert detail["type"] == "customer.created"


def test_a_flat_clash_at_ingest_is_a_400_on_the_payload(admin_api):
    response = admin_api.post(
        "/api/v1/events/",
        {"type": "document.status_changed", "source": "admin", "payload": {**DOCUMENT, "eventType": "X"}},
        format="json",
    )

    assert response.status_code == 400 and "eventType" in response.json()["errors"]["payload"][0]


def test_event_types_show_their_name_in_each_format(admin_api):
    body = admin_api.get("/api/v1/event-types/customer.created/").json()
    assert body["names"] == {
        "standard": "customer.created",
        "fakturia": "CUSTOMER_CREATED",
        "nitrobox": "customer.created",
    }
    assert admin_api.get("/api/v1/event-types/order.completed/").json()["names"] == {"standard": "order.completed"}
