"""API v1.1 (issue 12): POST events/batch/, up to 100 events, one result each; and what ingest costs in SQL."""

import uuid

import pytest

from channels.models import Subscription
from deliveries.models import Delivery
from events.models import Event, EventType, Order

BATCH = "/api/v1/events/batch/"


def order_event(n, **fields):
    return {"type": "order.completed", "source": "shop", "payload": {"order": {"id": f"A-{n}"}}, **fields}


@pytest.fixture
def subscribed(db, postback_channel):
    EventType.objects.filter(key="order.completed").update(enabled=True)
    Subscription.objects.create(
        event_type_id="order.completed", channel=postback_channel, source_shop=True, source_funnel=True
    )
    return postback_channel


def test_a_batch_stores_each_event_with_its_deliveries(admin_api, subscribed):
    events = [order_event(n, order_ref=f"A-{n}") for n in range(3)]

    response = admin_api.post(BATCH, {"events": events}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert Event.objects.count() == 3 and Delivery.objects.count() == 3
    assert all(len(r["event"]["deliveries"]) == 1 for r in results)
    assert set(Order.objects.values_list("ref", flat=True)) == {"A-0", "A-1", "A-2"}


def test_each_item_gets_its_own_answer(admin_api, subscribed):
    seen_id, conflicting_id = str(uuid.uuid4()), str(uuid.uuid4())
    admin_api.post("/api/v1/events/", order_event(1, id=seen_id), format="json")
    admin_api.post("/api/v1/events/", order_event(2, id=conflicting_id), format="json")
    events = [
        order_event(3),
        order_event(1, id=seen_id),
        order_event(9, id=conflicting_id),
        {**order_event(4), "type": "no.such.type"},
        {**order_event(5), "orderRef": "A-5"},
        order_event(6, id=123),
    ]

    results = admin_api.post(BATCH, {"events": events}, format="json").json()["results"]

    assert [r["status"] for r in results] == [201, 200, 409, 400, 400, 400]
    assert results[1]["event"]["id"] == seen_id and len(results[1]["event"]["deliveries"]) == 1
    assert results[2]["error"]["code"] == "event_conflict" and results[2]["error"]["differs"] == ["payload"]
    assert "type" in results[3]["error"]["errors"]
    assert "orderRef" in results[4]["error"]["errors"]
    assert "id" in results[5]["error"]["errors"]
    assert Event.objects.count() == 3


def test_the_same_id_twice_in_one_batch_is_stored_once(admin_api, subscribed):
    event_id = str(uuid.uuid4())

    results = admin_api.post(
        BATCH,
        {"events": [order_event(1, id=event_id), order_event(1, id=event_id), order_event(2, id=event_id)]},
        format="json",
    ).json()["results"]

    assert [r["status"] for r in results] == [201, 200, 409]
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1


@pytest.mark.parametrize("body", [{"events": []}, {"events": [order_event(n) for n in range(101)]}, {"events": {}}, {}])
def test_a_batch_that_is_not_1_to_100_events_is_a_400(admin_api, body):
    response = admin_api.post(BATCH, body, format="json")

    assert response.status_code == 400 and "events" in response.json()["errors"]
    assert not Event.objects.exists()


def test_a_batch_needs_the_add_permission(make_client):
    response = make_client("events.view_event").post(BATCH, {"events": [order_event(1)]}, format="json")

    assert response.status_code == 403 and not Event.objects.exists()


def test_a_batch_of_100_costs_a_few_statements_not_100_times_one(admin_api, subscribed, django_assert_max_num_queries):
    events = [order_event(n, order_ref=f"A-{n}", id=str(uuid.uuid4())) for n in range(100)]

    # Authentication (token, user, permissions) and the batch: types, ids seen, savepoint,
    # events, subscriptions, deliveries, orders.
    with django_assert_max_num_queries(14):
        response = admin_api.post(BATCH, {"events": events}, format="json")

    assert [r["status"] for r in response.json()["results"]] == [201] * 100
    assert Delivery.objects.count() == 100


def test_one_ingest_costs_at_most_this_many_statements(admin_api, subscribed, django_assert_max_num_queries):
    # 3 to authenticate (token with user, user and group permissions), then the event type, the id
    # seen before, the event, the subscriptions, the delivery, the order, inside a savepoint (two
    # statements here, the test's transaction; BEGIN/COMMIT in production). Was 12: the delivery
    # ids were read back.
    with django_assert_max_num_queries(11):
        response = admin_api.post(
            "/api/v1/events/", order_event(1, order_ref="A-1", id=str(uuid.uuid4())), format="json"
        )

    assert response.status_code == 201
