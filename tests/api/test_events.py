"""events/: idempotent ingest with clear errors, and the event log with filters and cursor pages."""

import base64
import json
import uuid
from urllib.parse import urlencode

import pytest

from channels.models import Subscription
from deliveries.models import Delivery
from events.models import Event, EventType

pytestmark = pytest.mark.django_db

ORDER = {"order": {"id": "A-1001", "total": "49.90"}}


def ingest(client, **fields):
    body = {"type": "order.completed", "source": "shop", "payload": ORDER, **fields}
    return client.post("/api/v1/events/", body)


@pytest.fixture
def order_completed_to_receiver(postback_channel):
    event_type = EventType.objects.get(key="order.completed")
    event_type.enabled = True
    event_type.save(update_fields=["enabled"])
    return Subscription.objects.create(event_type=event_type, channel=postback_channel, source_admin=False)


def test_a_new_event_is_201_with_its_deliveries(admin_api, order_completed_to_receiver):
    event_id = uuid.uuid4()

    response = ingest(admin_api, id=str(event_id), order_ref="A-1001", occurred_at="2026-11-23T10:15:00Z")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == str(event_id) and body["type"] == "order.completed" and body["source"] == "shop"
    assert body["payload"] == ORDER and body["order_ref"] == "A-1001"
    assert body["occurred_at"] == "2026-11-23T10:15:00Z"
    delivery = Delivery.objects.get(event_id=event_id)
    assert body["deliveries"] == [delivery.pk] and delivery.channel_id == order_completed_to_receiver.channel_id


def test_occurred_at_with_any_offset_is_stored_in_utc(admin_api, event_type):
    # -19:38 parses in Python but PostgreSQL refuses offsets beyond 15:59
    response = ingest(admin_api, type=event_type.key, payload={}, occurred_at="2026-01-01T00:00:00-19:38")

    assert response.status_code == 201
    assert response.json()["occurred_at"] == "2026-01-01T19:38:00Z"


def test_without_an_id_the_service_gives_one(admin_api, event_type):
    response = admin_api.post("/api/v1/events/", {"type": event_type.key, "source": "admin", "payload": {}})

    assert response.status_code == 201
    assert Event.objects.get(pk=response.json()["id"]).type_id == event_type.key


def test_a_source_outside_the_subscription_gets_no_delivery(admin_api, order_completed_to_receiver):
    response = ingest(admin_api, source="admin")

    assert response.status_code == 201 and response.json()["deliveries"] == []


def test_an_event_of_a_disabled_type_is_accepted_without_deliveries(admin_api, order_completed_to_receiver):
    EventType.objects.filter(key="order.completed").update(enabled=False)

    response = ingest(admin_api)

    assert response.status_code == 201 and response.json()["deliveries"] == []
    assert Event.objects.filter(pk=response.json()["id"]).exists()
    assert not Delivery.objects.exists()


def test_the_same_id_with_the_same_content_is_200_and_creates_nothing(admin_api, order_completed_to_receiver):
    event_id = str(uuid.uuid4())
    first = ingest(admin_api, id=event_id)

    again = ingest(admin_api, id=event_id)

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1


@pytest.mark.parametrize("change", [{"payload": {"order": {"id": "A-1002"}}}, {"type": "refund.applied"}])
def test_the_same_id_with_other_content_is_409(admin_api, event_type, change):
    event_id = str(uuid.uuid4())
    assert ingest(admin_api, id=event_id).status_code == 201

    conflict = ingest(admin_api, id=event_id, **change)

    assert conflict.status_code == 409
    assert conflict.json()["id"] == event_id and conflict.json()["detail"]
    assert Event.objects.get().payload == ORDER


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"type": "no.such.event"}, "type"),
        ({"type": ""}, "type"),
        ({"source": "warehouse"}, "source"),
        ({"source": None}, "source"),
        ({"payload": ["not", "an", "object"]}, "payload"),
        ({"payload": "text"}, "payload"),
        ({"payload": {"order": "no id"}}, "payload"),  # order.completed's JSON Schema wants order.id
        ({"payload": {}}, "payload"),
        ({"id": "not-a-uuid"}, "id"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ({"order_ref": "x" * 101}, "order_ref"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_api, fields, field):
    response = ingest(admin_api, **fields)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["errors"]
    assert not Event.objects.exists()


def test_missing_fields_are_named(admin_api):
    response = admin_api.post("/api/v1/events/", {})

    assert response.status_code == 400
    assert {"type", "source", "payload"} <= set(response.json()["errors"])


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"type": "order.completed", "source": ', "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b'{"type": "order.completed", "source": "shop", "payload": {"n": NaN}}', "application/json"),
        (b'{"type": "order.completed", "source": "shop", "payload": {"order": {"id": "\\u0000"}}}', "application/json"),
        (b'{"type": "order.completed", "source": "shop", "payload": {"order": {"id": "\\ud800"}}}', "application/json"),
        (b"", "application/json"),
        (
            b'{"type": "order.completed", "source": "shop", "payload": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
            "application/json",
        ),
        (
            b'{"type": "order.completed", "source": "shop", "payload": {"a": '
            + b'{"a": ' * 500
            + b"1"
            + b"}" * 501
            + b"}",
            "application/json",
        ),
    ],
)
def test_malformed_json_is_400(admin_api, body, content_type):
    response = admin_api.generic("POST", "/api/v1/events/", body, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "invalid") and response.json()["detail"]
    assert not Event.objects.exists()


def test_other_media_types_are_415(admin_api):
    response = admin_api.generic(
        "POST", "/api/v1/events/", b"type=order.completed", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415


def test_a_payload_over_the_limit_is_413(admin_api, settings):
    settings.WEBHOOKS_MAX_PAYLOAD_BYTES = 1000
    payload = {"order": {"id": "A-1", "note": "x" * 1200}}

    response = ingest(admin_api, payload=payload)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large" and "payload" in response.json()["errors"]
    assert not Event.objects.exists()


def test_a_body_far_over_the_limit_is_413_before_it_is_parsed(admin_api, settings):
    settings.WEBHOOKS_MAX_PAYLOAD_BYTES = 1000
    # Not even JSON: refused on its declared length alone.
    body = b"[" * 100_000

    response = admin_api.generic("POST", "/api/v1/events/", body, content_type="application/json")

    assert response.status_code == 413
    assert "detail" in response.json()


def test_a_body_of_several_megabytes_is_413_not_a_django_error_page(admin_api):
    body = b'{"type": "order.completed", "source": "shop", "payload": {"x": "' + b"x" * 3_000_000 + b'"}}'

    response = admin_api.generic("POST", "/api/v1/events/", body, content_type="application/json")

    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert not Event.objects.exists()


def test_the_log_filters_by_type_source_and_order_ref(admin_api, event_type):
    ingest(admin_api, order_ref="A-1")
    ingest(admin_api, order_ref="A-2", source="funnel")
    ingest(admin_api, type=event_type.key, payload={"contact": 1}, source="funnel")

    def types(**params):
        response = admin_api.get("/api/v1/events/", params)
        assert response.status_code == 200
        return sorted((e["type"], e["source"], e["order_ref"]) for e in response.json()["results"])

    assert types(type="order.completed") == [("order.completed", "funnel", "A-2"), ("order.completed", "shop", "A-1")]
    assert types(source="funnel") == [(event_type.key, "funnel", ""), ("order.completed", "funnel", "A-2")]
    assert types(order_ref="A-1") == [("order.completed", "shop", "A-1")]
    assert types(type="no.such.type") == []
    assert admin_api.get("/api/v1/events/", {"source": "warehouse"}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"created_before": "0001-01-01T00:08:13+01:00"},
        {"created_after": "9999-12-31T23:59:59-05:00"},
        {"created_after": "yesterday"},
    ],
)
def test_a_date_filter_outside_what_utc_can_hold_is_400(admin_api, params):
    response = admin_api.get("/api/v1/events/", params)

    assert response.status_code == 400 and set(params) <= set(response.json()["errors"])


def test_the_log_filters_by_creation_time(admin_api, event_type):
    event_id = ingest(admin_api, type=event_type.key, payload={}).json()["id"]
    created = Event.objects.get(pk=event_id).created_at

    def ids(**params):
        return [e["id"] for e in admin_api.get("/api/v1/events/", params).json()["results"]]

    assert ids(created_after=created.isoformat()) == [event_id]
    assert ids(created_before=created.isoformat()) == []
    # Offsets Python accepts but PostgreSQL would not (beyond 15:59) work too
    assert ids(created_after="2000-01-01T00:00:00-19:38") == [event_id]


def test_the_log_is_cursor_paginated_newest_first(admin_api, event_type):
    ids = [ingest(admin_api, type=event_type.key, payload={"n": n}).json()["id"] for n in range(7)]

    seen, url, params = [], "/api/v1/events/", {"page_size": 3}
    while url:
        page = admin_api.get(url, params).json()
        assert "count" not in page  # no COUNT(*) over millions of rows
        seen += [e["id"] for e in page["results"]]
        url, params = page["next"], None

    assert seen == list(reversed(ids))
    assert admin_api.get("/api/v1/events/", {"cursor": "garbage"}).status_code == 404


@pytest.mark.parametrize("position", ["abc", "0001-01-01T00:00:00+01:00", "2026-01-01T00:00:00-19:38", "", "9" * 30])
def test_a_forged_cursor_is_404_or_followed_never_a_500(admin_api, event_type, position):
    ingest(admin_api, type=event_type.key, payload={})
    cursor = base64.b64encode(urlencode({"p": position, "o": 0}).encode()).decode()

    for url in ("/api/v1/events/", "/api/v1/deliveries/"):
        response = admin_api.get(url, {"cursor": cursor})
        assert response.status_code in (200, 404), (url, response.content)


def test_an_event_detail_lists_its_delivery_ids(admin_api, order_completed_to_receiver):
    event_id = ingest(admin_api).json()["id"]

    body = admin_api.get(f"/api/v1/events/{event_id}/").json()

    assert body["deliveries"] == list(Delivery.objects.filter(event_id=event_id).values_list("id", flat=True))
    assert admin_api.get(f"/api/v1/events/{uuid.uuid4()}/").status_code == 404
    assert admin_api.get("/api/v1/events/not-a-uuid/").status_code == 404


def test_events_cannot_be_changed_or_deleted(admin_api, event_type):
    event_id = ingest(admin_api, type=event_type.key, payload={}).json()["id"]

    assert admin_api.patch(f"/api/v1/events/{event_id}/", {"source": "admin"}).status_code == 405
    assert admin_api.delete(f"/api/v1/events/{event_id}/").status_code == 405
    assert Event.objects.get(pk=event_id).source == "shop"


def test_a_payload_is_stored_as_sent(admin_api, event_type):
    payload = {"unicode": "Teststraße ✓", "nested": {"list": [1, 2.5, None, True]}}

    response = admin_api.generic(
        "POST",
        "/api/v1/events/",
        json.dumps({"type": event_type.key, "source": "shop", "payload": payload}, ensure_ascii=False).encode(),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Event.objects.get(pk=response.json()["id"]).payload == payload
