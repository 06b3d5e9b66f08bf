"""API v1.1 (issue 12): one error shape with a code, strict input, 405 before permissions, 409 for conflicts."""

import uuid

import pytest

from events.models import Event


def ingest(client, **fields):
    body = {"type": "order.completed", "source": "shop", "payload": {"order": {"id": "A-1"}}, **fields}
    return client.post("/api/v1/events/", body, format="json")


def test_an_unknown_body_field_is_refused_naming_it(admin_api):
    response = ingest(admin_api, colour="blue")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "colour" in response.json()["errors"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("camel, snake", [("orderRef", "order_ref"), ("occurredAt", "occurred_at")])
def test_a_camel_case_field_is_refused_with_its_snake_case_spelling(admin_api, camel, snake):
    response = ingest(admin_api, **{camel: "A-1" if snake == "order_ref" else "2026-01-01T00:00:00Z"})

    assert response.status_code == 400
    [message] = response.json()["errors"][camel]
    assert repr(snake) in message


def test_an_unknown_query_parameter_is_refused_naming_it(admin_api):
    response = admin_api.get("/api/v1/events/", {"createdAfter": "2026-01-01T00:00:00Z"})

    assert response.status_code == 400
    assert "created_after" in response.json()["errors"]["createdAfter"][0]


def test_known_query_parameters_pass(admin_api):
    response = admin_api.get("/api/v1/events/", {"type": "order.completed", "page_size": 5})

    assert response.status_code == 200


def test_a_detail_takes_no_list_filters(admin_api):
    event_id = ingest(admin_api).json()["id"]

    response = admin_api.get(f"/api/v1/events/{event_id}/", {"type": "x"})

    assert response.status_code == 400 and "type" in response.json()["errors"]


@pytest.mark.parametrize("value", [123, True, 1.5, ["f47ac10b-58cc-4372-a567-0e02b2c3d479"]])
def test_an_event_id_must_be_a_json_string(admin_api, value):
    response = ingest(admin_api, id=value)

    assert response.status_code == 400 and "id" in response.json()["errors"]
    assert not Event.objects.exists()


def test_list_items_are_keyed_by_index(admin_api, postback_channel):
    response = admin_api.post(
        "/api/v1/subscriptions/",
        {"event_type": "order.completed", "channel": postback_channel.pk, "sources": ["shop", "nowhere"]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["sources.1"]


def test_every_error_has_a_code_and_a_detail(admin_api, anonymous, make_client):
    answers = {
        "not_authenticated": anonymous.get("/api/v1/events/"),
        "permission_denied": make_client().get("/api/v1/events/"),
        "not_found": admin_api.get(f"/api/v1/events/{uuid.uuid4()}/"),
        "method_not_allowed": admin_api.delete("/api/v1/events/"),
        "parse_error": admin_api.generic("POST", "/api/v1/events/", b"{", content_type="application/json"),
        "unsupported_media_type": admin_api.generic("POST", "/api/v1/events/", b"a=1", content_type="text/plain"),
    }

    for code, response in answers.items():
        assert response.json()["code"] == code, (code, response.json())
        assert response.json()["detail"]


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e400", b"-1e400"])
def test_non_finite_numbers_are_a_parse_error(admin_api, number):
    body = b'{"type": "order.completed", "source": "shop", "payload": {"order": {"id": "A-1"}, "n": ' + number + b"}}"

    response = admin_api.generic("POST", "/api/v1/events/", body, content_type="application/json")

    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_a_method_an_endpoint_lacks_is_405_even_without_the_permission(make_client):
    client = make_client()  # no permission at all

    response = client.delete("/api/v1/event-types/order.completed/")

    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_a_duplicate_subscription_is_a_409(admin_api, postback_channel):
    body = {"event_type": "order.completed", "channel": postback_channel.pk, "sources": ["shop"]}
    assert admin_api.post("/api/v1/subscriptions/", body, format="json").status_code == 201

    again = admin_api.post("/api/v1/subscriptions/", {**body, "sources": ["admin"]}, format="json")

    assert again.status_code == 409 and again.json()["code"] == "duplicate"


@pytest.mark.parametrize(
    "field, value",
    [
        ("source", "admin"),
        ("order_ref", "B-2"),
        ("occurred_at", "2020-01-01T00:00:00Z"),
        ("payload", {"order": {"id": "A-2"}}),
    ],
)
def test_the_same_event_id_with_other_content_is_a_409_naming_it(admin_api, field, value):
    event_id = str(uuid.uuid4())
    first = ingest(admin_api, id=event_id, order_ref="A-1", occurred_at="2026-01-01T00:00:00Z")
    assert first.status_code == 201

    again = ingest(
        admin_api, **{"id": event_id, "order_ref": "A-1", "occurred_at": "2026-01-01T00:00:00Z", field: value}
    )

    assert again.status_code == 409
    assert again.json()["code"] == "event_conflict" and again.json()["differs"] == [field]


def test_the_same_event_id_with_the_same_content_is_a_200(admin_api):
    event_id = str(uuid.uuid4())
    ingest(admin_api, id=event_id, order_ref="A-1", occurred_at="2026-01-01T00:00:00Z")

    again = ingest(admin_api, id=event_id, order_ref="A-1", occurred_at="2026-01-01T01:00:00+01:00")

    assert again.status_code == 200


def test_the_size_limit_is_the_payloads_compact_json_not_the_body(admin_api, settings):
    settings.WEBHOOKS_MAX_PAYLOAD_BYTES = 3000
    # About 60 % of the limit as compact UTF-8 JSON; three times that as \\u escapes in the body.
    payload = {"order": {"id": "A-1"}, "note": "ü" * 900}
    body = (
        '{"type": "order.completed", "source": "shop", "payload": ' + __import__("json").dumps(payload) + "}"
    ).encode()
    assert len(body) > settings.WEBHOOKS_MAX_PAYLOAD_BYTES

    accepted = admin_api.generic("POST", "/api/v1/events/", body, content_type="application/json")
    too_large = ingest(admin_api, payload={"order": {"id": "A-1"}, "note": "x" * 3100})

    assert accepted.status_code == 201, accepted.json()
    assert too_large.status_code == 413 and too_large.json()["code"] == "payload_too_large"


def test_created_after_and_before_filter_events(admin_api):
    ingest(admin_api)

    after = admin_api.get("/api/v1/events/", {"created_after": "2099-01-01T00:00:00Z"}).json()["results"]
    before = admin_api.get("/api/v1/events/", {"created_before": "2099-01-01T00:00:00Z"}).json()["results"]

    assert after == [] and len(before) == 1


def test_every_api_viewset_is_strict():
    from common.api.views import StrictAPIMixin
    from webhooks_project.api.urls import router

    loose = [basename for _prefix, viewset, basename in router.registry if not issubclass(viewset, StrictAPIMixin)]

    assert loose == []


def test_every_api_input_serializer_refuses_unknown_fields():
    import importlib
    import inspect

    from rest_framework import serializers

    from common.api.serializers import StrictFieldsMixin

    loose = []
    for module_name in ("events.serializers", "channels.serializers", "deliveries.serializers"):
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            is_input = name.endswith(("InputSerializer", "CreateSerializer", "UpdateSerializer", "IngestSerializer"))
            ours = issubclass(cls, serializers.Serializer) and cls.__module__ == module_name
            if ours and is_input and not issubclass(cls, StrictFieldsMixin):
                loose.append(name)

    assert loose == []


def test_a_call_that_takes_no_body_refuses_fields(admin_api, postback_channel):
    with_fields = admin_api.post(
        f"/api/v1/channels/{postback_channel.pk}/rotate-secret/", {"secret": "x"}, format="json"
    )
    empty = admin_api.post(f"/api/v1/channels/{postback_channel.pk}/rotate-secret/", {}, format="json")
    none = admin_api.post(f"/api/v1/channels/{postback_channel.pk}/rotate-secret/")

    assert with_fields.status_code == 400 and "secret" in with_fields.json()["errors"]
    assert empty.status_code == 200 and none.status_code == 200


def test_a_post_action_refuses_query_parameters(admin_api, postback_channel):
    response = admin_api.post(f"/api/v1/channels/{postback_channel.pk}/rotate-secret/?force=1")

    assert response.status_code == 400 and "force" in response.json()["errors"]


# Found by schemathesis' negative_data_rejection (tests/api/test_fuzz_schema.py): DRF coerces form-style
# values, so a body the schema calls invalid was accepted.
@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/event-types/order.completed/", {"enabled": 0}, "enabled"),
        ("/api/v1/event-types/order.completed/", {"enabled": "true"}, "enabled"),
        ("/api/v1/channels/{channel}/", {"timeout": "5"}, "timeout"),
        ("/api/v1/channels/{channel}/", {"timeout": 5.0}, "timeout"),
        ("/api/v1/channels/{channel}/", {"timeout": True}, "timeout"),
        ("/api/v1/channels/{channel}/", {"name": 5}, "name"),
        ("/api/v1/channels/{channel}/", {"active": 1}, "active"),
        ("/api/v1/subscriptions/{subscription}/", {"active": "false"}, "active"),
    ],
)
def test_a_value_of_another_json_type_than_the_schemas_is_a_400_naming_it(
    admin_api, postback_channel, path, body, field
):
    from channels.models import Subscription
    from events.models import EventType

    subscription = Subscription.objects.create(
        event_type=EventType.objects.get(key="order.completed"), channel=postback_channel
    )
    url = path.format(channel=postback_channel.pk, subscription=subscription.pk)

    response = admin_api.patch(url, body, format="json")

    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]


def test_a_channel_id_given_as_a_string_or_boolean_is_refused(admin_api, postback_channel):
    for channel in (str(postback_channel.pk), True):
        body = {"event_type": "order.completed", "channel": channel, "sources": ["shop"]}

        response = admin_api.post("/api/v1/subscriptions/", body, format="json")

        assert response.status_code == 400 and list(response.json()["errors"]) == ["channel"]


# Found by negative_data_rejection on the query: django-filter reads `active=null` as "no filter" and
# skips an empty value, so the whole list came back.
@pytest.mark.parametrize(
    "path, query",
    [
        ("/api/v1/channels/", {"active": "null"}),
        ("/api/v1/channels/", {"active": "1"}),
        ("/api/v1/subscriptions/", {"active": "yes"}),
        ("/api/v1/event-types/", {"postback_only": "abc"}),
        ("/api/v1/events/", {"created_before": ""}),
        ("/api/v1/deliveries/", {"event": ""}),
        ("/api/v1/deliveries/", {"status": ""}),
        ("/api/v1/deliveries/", {"channel": ""}),
        ("/api/v1/channels/", {"page": ""}),
        ("/api/v1/channels/{channel}/stats/", {"window": ""}),
    ],
)
def test_an_invalid_or_empty_query_value_is_a_400_naming_it_not_an_unfiltered_list(
    admin_api, postback_channel, path, query
):
    response = admin_api.get(path.format(channel=postback_channel.pk), query)

    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == list(query)


def test_boolean_filters_take_true_and_false_and_an_empty_text_filter_is_still_allowed(admin_api, postback_channel):
    assert admin_api.get("/api/v1/channels/", {"active": "true"}).json()["count"] == 1
    assert admin_api.get("/api/v1/channels/", {"active": "false"}).json()["count"] == 0
    assert admin_api.get("/api/v1/events/", {"order_ref": ""}).status_code == 200


def test_the_schema_states_the_bounds_the_api_enforces(anonymous):
    schema = anonymous.get("/api/schema/", {"format": "json"}).json()
    parameters = {
        (path, parameter["name"]): parameter["schema"]
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    components = schema["components"]["schemas"]

    def has(schema, **expected):
        return {key: schema.get(key) for key in expected} == expected

    assert has(parameters[("/api/v1/events/", "page_size")], type="integer", minimum=1, maximum=500)
    assert has(parameters[("/api/v1/channels/", "page")], minimum=1)
    assert has(parameters[("/api/v1/deliveries/", "channel")], type="integer", minimum=1)
    assert has(parameters[("/api/v1/deliveries/{id}/attempts/", "status_code")], minimum=100, maximum=599)
    assert components["SubscriptionCreateRequest"]["properties"]["sources"]["minItems"] == 1
    assert "pattern" in components["RotateSecretInputRequest"]["properties"]["secret"]
    assert "secret" not in components["PatchedChannelChangeRequest"]["properties"]
    assert all(
        component.get("additionalProperties") is False
        for name, component in components.items()
        if name.endswith("Request")
    )
