"""The OpenAPI schema and the docs page: complete, valid, and served with no CDN."""

import re

import jsonschema
import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

SPEC_OPERATIONS = {
    ("/api/v1/", "get"),
    ("/api/v1/events/batch/", "post"),
    ("/api/v1/event-types/", "get"),
    ("/api/v1/event-types/{key}/", "get"),
    ("/api/v1/event-types/{key}/", "patch"),
    ("/api/v1/channels/", "get"),
    ("/api/v1/channels/", "post"),
    ("/api/v1/channels/{id}/", "get"),
    ("/api/v1/channels/{id}/", "patch"),
    ("/api/v1/channels/{id}/", "delete"),
    ("/api/v1/channels/{id}/test/", "post"),
    ("/api/v1/channels/{id}/rotate-secret/", "post"),
    ("/api/v1/subscriptions/", "get"),
    ("/api/v1/subscriptions/", "post"),
    ("/api/v1/subscriptions/{id}/", "get"),
    ("/api/v1/subscriptions/{id}/", "patch"),
    ("/api/v1/subscriptions/{id}/", "delete"),
    ("/api/v1/events/", "get"),
    ("/api/v1/events/", "post"),
    ("/api/v1/events/{id}/", "get"),
    ("/api/v1/deliveries/", "get"),
    ("/api/v1/deliveries/{id}/", "get"),
    ("/api/v1/deliveries/{id}/retry/", "post"),
    ("/api/v1/events/{id}/resend/", "post"),
    ("/api/v1/channels/{id}/recover/", "post"),
    ("/api/v1/recover-jobs/{id}/", "get"),
    ("/api/v1/channels/{id}/attempts/", "get"),
    ("/api/v1/channels/{id}/stats/", "get"),
    ("/api/v1/deliveries/{id}/attempts/", "get"),
}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3_with_every_operation_of_the_spec(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    operations = {(path, method) for path, ops in schema["paths"].items() for method in ops if method != "parameters"}
    assert operations == SPEC_OPERATIONS


def test_the_schema_documents_the_spec_fields(schema):
    components = schema["components"]["schemas"]
    assert {"key", "name", "category", "availability", "enabled", "manual_retry", "postback_only"} <= set(
        components["EventType"]["properties"]
    )
    assert {"id", "name", "kind", "url", "headers", "timeout", "active"} <= set(components["Channel"]["properties"])
    assert "secret" not in components["Channel"]["properties"]
    assert "secret" in components["ChannelCreated"]["properties"]
    assert {"id", "event_type", "channel", "sources", "active"} <= set(components["Subscription"]["properties"])
    assert {"type", "source", "payload", "id", "order_ref", "occurred_at"} <= set(
        components["EventIngestRequest"]["properties"]
    )
    assert "deliveries" in components["EventDetail"]["properties"]
    assert {"id", "event", "channel", "subscription", "status", "attempt_count", "next_attempt_at"} <= set(
        components["Delivery"]["properties"]
    )
    assert {"number", "trigger", "response_status", "error", "duration_ms", "started_at"} <= set(
        components["Attempt"]["properties"]
    )


def test_the_schema_documents_token_auth_and_the_error_answers(schema):
    assert schema["components"]["securitySchemes"] == {
        "tokenAuth": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token"',
        }
    }
    ingest = schema["paths"]["/api/v1/events/"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "409", "413", "429"} <= set(ingest)
    retry = schema["paths"]["/api/v1/deliveries/{id}/retry/"]["post"]["responses"]
    assert {"202", "403", "404", "409"} <= set(retry)
    filters = {p["name"] for p in schema["paths"]["/api/v1/deliveries/"]["get"]["parameters"]}
    assert {"status", "channel", "event", "event_type", "cursor", "page_size"} <= filters
    filters = {p["name"] for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}
    assert {"type", "source", "order_ref", "cursor", "page_size"} <= filters


def test_the_docs_page_loads_everything_from_this_server(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    # The initialiser is a file of its own (the Content-Security-Policy allows no inline script).
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode() and '<script src="/api/docs/?script=">' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if re.match(r"(https?:)?//", a)], assets
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset


def test_the_token_command_prints_a_bare_key(django_user_model, capsys):
    user = django_user_model.objects.create_user("alice")

    call_command("api_token", "alice")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "alice")
    again = capsys.readouterr().out.strip()
    call_command("api_token", "alice", "--reset")
    reset = capsys.readouterr().out.strip()

    assert first == again
    assert reset != first and Token.objects.get(user=user).key == reset
    assert re.fullmatch(r"[0-9a-f]{40}", reset)


def test_the_token_command_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="bob"):
        call_command("api_token", "bob")
    assert not Token.objects.exists()


def test_unknown_api_paths_answer_json_and_a_missing_slash_is_pointed_out(admin_api):
    unknown = admin_api.post("/api/v1/nothing-here/", {"a": 1})
    no_slash = admin_api.post("/api/v1/events", {"type": "contact.created"})

    assert unknown.status_code == 404 and unknown.json() == {"code": "not_found", "detail": "Not found."}
    assert no_slash.status_code == 404
    assert no_slash.json()["detail"] == "Not found. API paths end with a slash: /api/v1/events/"


def test_every_operation_has_a_description_and_an_example_answer(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("description"), (method, path)
            successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            assert successes, (method, path)
            for code, answer in successes.items():
                if code == "204":
                    continue
                content = answer["content"]["application/json"]
                assert content.get("examples") or content.get("example"), (method, path, code)


def test_the_postback_of_every_format_and_its_headers_are_described(schema):
    components = schema["components"]
    for title, required in (
        ("PostbackStandard", {"eventId", "eventType", "occurredAt", "source", "payload", "retryCount"}),
        ("PostbackNitrobox", {"eventId", "eventType", "occurredAt", "source", "payload"}),
        ("PostbackFakturia", {"eventType", "triggerDate", "triggerUser", "webhookConfig", "retryCount", "payload"}),
        ("PostbackFlat", {"eventId", "eventType", "occurredAt"}),
    ):
        body = components["schemas"][title]
        assert required <= set(body["required"]) and required <= set(body["example"]), title
    assert "CUSTOMER_CREATED" in components["schemas"]["PostbackFakturia"]["properties"]["eventType"]["enum"]
    assert components["schemas"]["PostbackFlat"]["example"]["eventType"] == "DOCUMENT_STATUS_CHANGED"
    assert set(components["headers"]) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert set(schema["x-webhooks"]) == {"postback-standard", "postback-nitrobox", "postback-fakturia", "postback-flat"}
    hook = schema["x-webhooks"]["postback-flat"]["post"]
    assert {p["name"] for p in hook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert "PostbackStandard" in schema["info"]["description"]


def test_event_types_document_their_payloads(admin_api):
    seed_004 = [
        "order.completed",
        "contact.created",
        "shipping.tracking_updated",
        "product.conflict",
        "transaction.approved",
        "transaction.declined",
        "refund.applied",
        "subscription.canceled",
        "customer.created",
        "survey.completed",
    ]
    seed_002 = ["document.status_changed", "invoice.status_changed"]

    for key in seed_004 + seed_002:
        body = admin_api.get(f"/api/v1/event-types/{key}/").json()
        schema = body["payload_schema"]
        assert schema is not None, key
        assert schema["type"] == "object" and schema["properties"], key
        # The catalogue's own example satisfies it.
        jsonschema.validate(body["example_payload"], schema)


def _as_json_schema(node):
    """OpenAPI 3.0's ``nullable`` spelled as JSON Schema, so ``jsonschema`` can check examples."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def test_every_example_answer_matches_its_own_schema(schema):
    components = _as_json_schema(schema["components"])
    checked = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {}).get("application/json", {})
                for name, example in content.get("examples", {}).items():
                    validator = jsonschema.Draft202012Validator(
                        {"components": components, **_as_json_schema(content["schema"])}
                    )
                    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example["value"])]
                    assert not errors, (method, path, code, name, errors[:3])
                    checked += 1
    assert checked >= 25
