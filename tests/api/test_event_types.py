"""GET/PATCH event-types/: the catalogue and its on/off switch."""

import pytest

from events.models import EventType

pytestmark = pytest.mark.django_db

FIELDS = {"key", "name", "category", "availability", "enabled", "manual_retry", "postback_only"}


def test_the_catalogue_is_listed_with_the_spec_fields(admin_api):
    response = admin_api.get("/api/v1/event-types/", {"page_size": 200})

    assert response.status_code == 200
    keys = [t["key"] for t in response.json()["results"]]
    assert response.json()["count"] == EventType.objects.count() == len(keys)
    assert {"order.completed", "customer.created", "test"} <= set(keys)
    assert set(response.json()["results"][0]) >= FIELDS


def test_an_event_type_is_addressed_by_its_dotted_key(admin_api):
    body = admin_api.get("/api/v1/event-types/order.completed/").json()

    assert body["key"] == "order.completed" and body["manual_retry"] is True
    assert admin_api.get("/api/v1/event-types/customer.created/").json()["postback_only"] is True
    assert admin_api.get("/api/v1/event-types/no.such.type/").status_code == 404


def test_the_list_filters_by_the_fields(admin_api):
    on_demand = admin_api.get("/api/v1/event-types/", {"availability": "on_demand", "page_size": 200}).json()
    postback_only = admin_api.get("/api/v1/event-types/", {"postback_only": "true"}).json()

    assert on_demand["count"] == EventType.objects.filter(availability="on_demand").count() > 0
    assert all(t["availability"] == "on_demand" for t in on_demand["results"])
    assert {t["key"] for t in postback_only["results"]} == {"customer.created", "survey.completed"}
    assert admin_api.get("/api/v1/event-types/", {"availability": "sometimes"}).status_code == 400


@pytest.mark.parametrize("page_size", ["10000", "501", "0", "-1", "abc", ""])
def test_a_page_size_outside_1_to_500_is_a_400(admin_api, page_size):
    response = admin_api.get("/api/v1/event-types/", {"page_size": page_size})

    assert response.status_code == 400 and "page_size" in response.json()["errors"]


def test_page_size_is_honoured_up_to_500(admin_api):
    response = admin_api.get("/api/v1/event-types/", {"page_size": 500})

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(500, EventType.objects.count())
    assert len(admin_api.get("/api/v1/event-types/", {"page_size": 5}).json()["results"]) == 5


def test_patch_switches_an_event_type_on_and_off(admin_api):
    on = admin_api.patch("/api/v1/event-types/order.completed/", {"enabled": True})
    assert on.status_code == 200 and on.json()["enabled"] is True
    assert EventType.objects.get(key="order.completed").enabled

    off = admin_api.patch("/api/v1/event-types/order.completed/", {"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert not EventType.objects.get(key="order.completed").enabled


def test_patch_of_other_fields_is_refused_naming_them(admin_api):
    response = admin_api.patch(
        "/api/v1/event-types/order.completed/", {"enabled": True, "manual_retry": False, "name": "Hacked"}
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"manual_retry", "name"}
    stored = EventType.objects.get(key="order.completed")
    assert not stored.enabled and stored.manual_retry and stored.name != "Hacked"


def test_an_empty_patch_changes_nothing(admin_api):
    response = admin_api.patch("/api/v1/event-types/order.completed/", {}, format="json")

    assert response.status_code == 200 and response.json()["enabled"] is False


@pytest.mark.parametrize("body", [{"enabled": "perhaps"}, {"enabled": None}, ["enabled"]])
def test_patch_without_a_boolean_enabled_is_a_field_error(admin_api, body):
    response = admin_api.patch("/api/v1/event-types/order.completed/", body, format="json")

    assert response.status_code == 400
    assert {"enabled", "non_field_errors"} & set(response.json()["errors"])


def test_put_is_not_offered(admin_api):
    assert admin_api.put("/api/v1/event-types/order.completed/", {"enabled": True}).status_code == 405


def test_switching_on_an_on_demand_type_needs_the_extra_permission(make_client):
    on_demand = EventType.objects.filter(availability="on_demand").first()
    url = f"/api/v1/event-types/{on_demand.key}/"
    changer = make_client("events.view_eventtype", "events.change_eventtype")
    allowed = make_client("events.view_eventtype", "events.change_eventtype", "events.enable_on_demand")

    refused = changer.patch(url, {"enabled": True})
    assert refused.status_code == 403 and "on demand" in refused.json()["detail"]
    assert not EventType.objects.get(pk=on_demand.pk).enabled

    assert allowed.patch(url, {"enabled": True}).status_code == 200
    assert EventType.objects.get(pk=on_demand.pk).enabled
    # Switching off needs no extra permission.
    assert changer.patch(url, {"enabled": False}).status_code == 200
