"""OpenAPI additions (drf-spectacular post-processing hook): an example answer and a description on every
operation, and the postbacks themselves: the body of each payload format and the Standard Webhooks headers.

The schema stays OpenAPI 3.0 (schemathesis, Swagger UI and the generated clients read it as such), so
the postbacks are components (``PostbackStandard`` ...) with the headers under ``components.headers``,
and one ``x-webhooks`` entry per format (Redoc's spelling of 3.1's ``webhooks``). The examples are built
by the code that builds every postback (``deliveries.engine.envelope.example_body``) and from the
catalogue, so they cannot drift from what is sent.
"""

from __future__ import annotations

import copy
import json

from deliveries.engine.envelope import EXAMPLE_EVENT_ID, example_body
from events.catalogue import CATALOGUE, KEYS
from events.catalogue.names import names_of, native_name
from events.formats import EXPLANATIONS, PayloadFormat
from webhooks_project.api.examples import ATTEMPT, STATS_EXAMPLE

ENTRIES = {entry["key"]: entry for entry in CATALOGUE}
AT = "2026-11-23T10:15:00Z"
LATER = "2026-11-23T10:15:01.042Z"
ORDER_PAYLOAD = ENTRIES["order.completed"]["example_payload"]

EVENT_TYPE = {
    **{k: ENTRIES["order.completed"][k] for k in ("key", "name", "category", "description", "availability")},
    "enabled": True,
    **{k: ENTRIES["order.completed"][k] for k in ("critical", "manual_retry", "postback_only")},
    "example_payload": ORDER_PAYLOAD,
    "payload_schema": ENTRIES["order.completed"]["payload_schema"],
    "names": names_of("order.completed"),
}
CHANNEL = {
    "id": 1,
    "name": "Shop backend",
    "description": "Orders for the ERP",
    "metadata": {"tenant": "acme"},
    "kind": "postback",
    "url": "https://hooks.example.com/postbacks",
    "email_to": "",
    "format": "standard",
    "headers": {"X-Tenant": "***"},
    "timeout": 10,
    "active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "reenabled_at": None,
    "breaker": {"state": "closed", "consecutive_failures": 0, "open_until": None},
    "secret_rotated_at": None,
    "previous_secret_expires_at": None,
    "created_at": AT,
    "updated_at": AT,
}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SUBSCRIPTION = {
    "id": 3,
    "event_type": "order.completed",
    "channel": 1,
    "sources": ["shop", "funnel"],
    "active": True,
    "created_at": AT,
}
EVENT = {
    "id": EXAMPLE_EVENT_ID,
    "type": "order.completed",
    "source": "shop",
    "payload": ORDER_PAYLOAD,
    "order_ref": "A-1001",
    "occurred_at": AT,
    "created_at": LATER,
}
DELIVERY = {
    "id": 812,
    "event": EXAMPLE_EVENT_ID,
    "event_type": "order.completed",
    "source": "shop",
    "channel": 1,
    "subscription": 3,
    "status": "failed",
    "attempt_count": 6,
    "next_attempt_at": None,
    "pending_trigger": "automatic",
    "last_response_status": 503,
    "last_error": "http_status",
    "failure_reason": "HTTP 503; all 5 retries spent.",
    "is_test": False,
    "created_at": LATER,
    "completed_at": "2026-11-23T16:40:12Z",
}
DETAIL_ATTEMPT = {
    k: ATTEMPT[k]
    for k in ("number", "trigger", "started_at", "duration_ms", "response_status", "error", "error_detail")
}
DELIVERY_DETAIL = {**DELIVERY, "attempts": [DETAIL_ATTEMPT]}
TEST_SEND = {
    "delivery": 813,
    "event": "0b7e6f4e-3f0c-4d8e-9a51-7d1c1b2a9e10",
    "event_type": "test",
    "succeeded": True,
    "number": 1,
    "trigger": "test",
    "started_at": AT,
    "duration_ms": 84,
    "response_status": 200,
    "error": "",
    "error_detail": "",
}
RECOVER_JOB = {
    "id": 5,
    "channel": 1,
    "status": "queued",
    "since": "2026-11-22T00:00:00Z",
    "until": None,
    "event_types": [],
    "total": 42,
    "done": 0,
    "resent": 0,
    "skipped": 0,
    "percent": 0,
    "summary": "",
    "created_by": 2,
    "created_at": AT,
    "started_at": None,
    "finished_at": None,
}


def page(*results, numbered=False):
    if numbered:
        return {"count": len(results), "next": None, "previous": None, "results": list(results)}
    return {"next": None, "previous": None, "results": list(results)}


# operationId -> (description, or None to keep the view's; {status: (example name, value)}).
OPERATIONS = {
    "v1_event_types_list": (
        "The catalogue (SPEC appendix A) in catalogue order, numbered pages. Each type carries an example "
        "payload, its `payload_schema` (JSON Schema; ingest refuses a payload that breaks it) and its name "
        "in each payload format. Needs `events.view_eventtype`.",
        {"200": ("The catalogue", page(EVENT_TYPE, numbered=True))},
    ),
    "v1_event_types_retrieve": (
        "One event type by key, with its example payload, `payload_schema` and names per format.",
        {"200": ("Order completed", EVENT_TYPE)},
    ),
    "v1_event_types_partial_update": (None, {"200": ("Switched on", EVENT_TYPE)}),
    "v1_channels_list": (
        "Numbered pages of channels, filtered by `kind` and `active`. Custom header values read `***` "
        "unless you have `channels.reveal_secret`; the signing secret is never listed. Needs "
        "`channels.view_channel`.",
        {"200": ("Channels", page(CHANNEL, numbered=True))},
    ),
    "v1_channels_create": (None, {"201": ("Created, with its secret", {**CHANNEL, "secret": SECRET})}),
    "v1_channels_retrieve": (
        "One channel, with its circuit breaker, auto-disable and secret rotation state (never the secret).",
        {"200": ("A postback channel", CHANNEL)},
    ),
    "v1_channels_partial_update": (None, {"200": ("Renamed", {**CHANNEL, "name": "Shop backend (EU)"})}),
    "v1_channels_test_create": (None, {"200": ("The endpoint answered 200", TEST_SEND)}),
    "v1_channels_rotate_secret_create": (
        None,
        {
            "200": (
                "A new secret",
                {
                    "id": 1,
                    "secret": SECRET,
                    "secret_rotated_at": AT,
                    "previous_secret_expires_at": "2026-11-24T10:15:00Z",
                },
            )
        },
    ),
    "v1_channels_recover_create": (None, {"202": ("Queued", RECOVER_JOB)}),
    "v1_channels_stats_retrieve": (None, {"200": (STATS_EXAMPLE.name, STATS_EXAMPLE.value)}),
    "v1_channels_attempts_list": (None, {"200": ("A page of attempts", page(ATTEMPT))}),
    "v1_subscriptions_list": (
        "Numbered pages of subscriptions, filtered by `event_type`, `channel`, `active` and `source`. "
        "Needs `channels.view_subscription`.",
        {"200": ("Subscriptions", page(SUBSCRIPTION, numbered=True))},
    ),
    "v1_subscriptions_create": (None, {"201": ("Attached", SUBSCRIPTION)}),
    "v1_subscriptions_retrieve": ("One subscription.", {"200": ("A subscription", SUBSCRIPTION)}),
    "v1_subscriptions_partial_update": (
        "Change `sources` (a non-empty subset of admin, shop, funnel) or `active`. The event type and the "
        "channel are fixed: detach and attach again for another. Needs `channels.change_subscription`.",
        {"200": ("Shop only", {**SUBSCRIPTION, "sources": ["shop"]})},
    ),
    "v1_subscriptions_destroy": (
        "Detach: the channel gets no more events of this type; its deliveries stay in the log. "
        "Needs `channels.delete_subscription`.",
        {},
    ),
    "v1_events_list": (
        "Newest first, cursor-paginated (follow `next`), filtered by `type`, `source`, `order_ref`, "
        "`created_after` and `created_before`. Needs `events.view_event`.",
        {"200": ("Events", page(EVENT))},
    ),
    "v1_events_create": (
        None,
        {
            "201": ("Stored, one delivery queued", {**EVENT, "deliveries": [812]}),
            "200": ("The same id and content again", {**EVENT, "deliveries": [812]}),
        },
    ),
    "v1_events_batch_create": (
        None,
        {
            "200": (
                "One stored, one refused",
                {
                    "results": [
                        {"index": 0, "status": 201, "event": {**EVENT, "deliveries": [812]}},
                        {
                            "index": 1,
                            "status": 400,
                            "error": {
                                "code": "invalid",
                                "detail": "Invalid input: source.",
                                "errors": {"source": ['"warehouse" is not a valid choice.']},
                            },
                        },
                    ]
                },
            )
        },
    ),
    "v1_events_retrieve": (
        "One event with the ids of its deliveries (`GET deliveries/{id}/` for each one's attempts).",
        {"200": ("An order event", {**EVENT, "deliveries": [812]})},
    ),
    "v1_events_resend_create": (
        None,
        {
            "201": (
                "Queued again",
                {
                    **DELIVERY_DETAIL,
                    "id": 901,
                    "status": "pending",
                    "attempt_count": 0,
                    "pending_trigger": "resend",
                    "attempts": [],
                    "completed_at": None,
                },
            )
        },
    ),
    "v1_deliveries_list": (
        "Newest first, cursor-paginated (follow `next`). Filters: `status`, `channel`, `event`, `event_type`, "
        "`source`, `order_ref` (the event's), `created_after` / `created_before` (ISO 8601; a date alone is "
        "midnight UTC; an invalid one is a 400 naming the parameter). Needs `deliveries.view_delivery`.",
        {"200": ("Deliveries", page(DELIVERY))},
    ),
    "v1_deliveries_retrieve": (
        "One delivery with a summary of each attempt; `GET deliveries/{id}/attempts/` has the full "
        "request and answer of each.",
        {"200": ("A failed delivery", DELIVERY_DETAIL)},
    ),
    "v1_deliveries_attempts_list": (None, {"200": ("A page of attempts", page(ATTEMPT))}),
    "v1_deliveries_retry_create": (
        None,
        {"202": ("Queued", {**DELIVERY_DETAIL, "status": "pending", "pending_trigger": "manual"})},
    ),
    "v1_recover_jobs_retrieve": (
        None,
        {
            "200": (
                "Done",
                {
                    **RECOVER_JOB,
                    "status": "done",
                    "done": 42,
                    "resent": 40,
                    "skipped": 2,
                    "percent": 100,
                    "summary": "Resent 40, skipped 2 (already resent or succeeded).",
                },
            )
        },
    ),
}


# --- The postbacks --------------------------------------------------------------------

POSTBACK_HEADERS = {
    "webhook-id": (
        "The event's id (a UUID), the same on every attempt, resend and format: the receiver's idempotency key.",
        {"type": "string", "format": "uuid"},
        EXAMPLE_EVENT_ID,
    ),
    "webhook-timestamp": (
        "When this attempt was signed, in Unix seconds. Refuse a timestamp too far from your clock "
        "(the `standardwebhooks` libraries allow 5 minutes) to stop replays.",
        {"type": "string", "pattern": "^[0-9]+$"},
        "1763892900",
    ),
    "webhook-signature": (
        "Space-separated `v1,<base64>` signatures: HMAC-SHA256 with the channel's secret (the bytes after "
        "`whsec_`, base64-decoded) over `{webhook-id}.{webhook-timestamp}.{body}`. During a rotation's overlap "
        "there is one per secret still signing; accept the request if any one matches. Verify with a Standard "
        "Webhooks library: `Webhook(secret).verify(body, headers)`.",
        {"type": "string"},
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,Z2t0aGlzaXNhbm9sZGVyb25l",
    ),
}
ENVELOPE_FIELDS = {
    "eventId": {"type": "string", "format": "uuid", "description": "The event's id; equals `webhook-id`."},
    "occurredAt": {"type": "string", "format": "date-time", "description": "When it happened (UTC, `Z`)."},
    "source": {"type": "string", "enum": ["admin", "shop", "funnel"], "description": "Where it happened."},
    "triggerUser": {"type": "string", "nullable": True, "description": "The user who caused it, if any."},
    "webhookConfig": {"type": "integer", "nullable": True, "description": "The subscription's id (null: a test send)."},
    "retryCount": {"type": "integer", "description": "Attempts made before this one (0 on the first)."},
    "payload": {"type": "object", "additionalProperties": {}, "description": "The event type's `payload_schema`."},
}


def _type_names(payload_format: str) -> list[str]:
    return sorted({name for key in KEYS if (name := native_name(key, payload_format))})


def _example(payload_format: str) -> dict:
    key = "document.status_changed" if payload_format == PayloadFormat.FLAT else "order.completed"
    body = example_body(
        event_type_key=key,
        payload=ENTRIES[key]["example_payload"],
        native_type=native_name(key, payload_format),
        payload_format=payload_format,
    )
    return json.loads(body)


def postback_schemas() -> dict[str, dict]:
    """One component per payload format (SPEC sections 4 and 12), each with an example built as sent."""
    event_type = {"type": "string", "description": "The type's name in this format."}
    standard = ["eventId", "eventType", "occurredAt", "source", "triggerUser", "webhookConfig", "retryCount", "payload"]
    fakturia = ["eventType", "triggerDate", "triggerUser", "webhookConfig", "retryCount", "payload"]
    schemas = {}
    for payload_format, title in (
        (PayloadFormat.STANDARD, "PostbackStandard"),
        (PayloadFormat.NITROBOX, "PostbackNitrobox"),
        (PayloadFormat.FAKTURIA, "PostbackFakturia"),
        (PayloadFormat.FLAT, "PostbackFlat"),
    ):
        names = {**event_type, "enum": _type_names(payload_format)}
        if payload_format in (PayloadFormat.STANDARD, PayloadFormat.NITROBOX):
            properties = {**ENVELOPE_FIELDS, "eventType": names}
            schema = {"type": "object", "required": standard, "properties": {k: properties[k] for k in standard}}
        elif payload_format == PayloadFormat.FAKTURIA:
            properties = {
                **ENVELOPE_FIELDS,
                "eventType": names,
                "triggerDate": {
                    "type": "string",
                    "description": "Local time (`TIME_ZONE`), no offset, to the second.",
                    "example": "2026-11-23T11:15:00",
                },
            }
            schema = {"type": "object", "required": fakturia, "properties": {k: properties[k] for k in fakturia}}
        else:
            schema = {
                "type": "object",
                "required": ["eventId", "eventType", "occurredAt"],
                "properties": {
                    "eventId": ENVELOPE_FIELDS["eventId"],
                    "eventType": names,
                    "occurredAt": ENVELOPE_FIELDS["occurredAt"],
                },
                "additionalProperties": {"description": "The payload's own fields, at the top level."},
            }
        schema["description"] = f"The postback body of the `{payload_format}` format: {EXPLANATIONS[payload_format]}"
        schema["example"] = _example(payload_format)
        schemas[title] = schema
    return schemas


def _webhooks(schemas: dict) -> dict:
    hooks = {}
    for title, schema in schemas.items():
        payload_format = title.removeprefix("Postback").lower()
        hooks[f"postback-{payload_format}"] = {
            "post": {
                "summary": f"A postback in the {payload_format} format, sent to your channel's URL",
                "description": schema["description"]
                + "\n\nAnswer 2xx within the channel's `timeout`; anything else is retried with backoff "
                "(SPEC section 5). Deduplicate by `webhook-id`.",
                "parameters": [
                    {
                        "name": name,
                        "in": "header",
                        "required": True,
                        "description": description,
                        "schema": header_schema,
                        "example": example,
                    }
                    for name, (description, header_schema, example) in POSTBACK_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{title}"}}},
                },
                "responses": {"2XX": {"description": "Received; not sent again."}},
            }
        }
    return hooks


def add_examples_and_postbacks(result, generator, request, public):
    """drf-spectacular post-processing hook: see the module's docstring."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            description, examples = OPERATIONS.get(operation.get("operationId"), (None, {}))
            if (
                description
                and not operation.get("description")
                or description
                and operation.get("summary")
                and operation["description"] == operation["summary"]
            ):
                operation["description"] = description
            for status, (name, value) in examples.items():
                content = operation.get("responses", {}).get(status, {}).get("content", {}).get("application/json")
                if content is not None and not content.get("examples"):
                    content["examples"] = {_key(name): {"summary": name, "value": copy.deepcopy(value)}}
    components = result.setdefault("components", {})
    schemas = postback_schemas()
    components.setdefault("schemas", {}).update(schemas)
    components.setdefault("headers", {}).update(
        {
            name: {"description": description, "required": True, "schema": header_schema, "example": example}
            for name, (description, header_schema, example) in POSTBACK_HEADERS.items()
        }
    )
    result["x-webhooks"] = _webhooks(schemas)
    return result


def _key(name: str) -> str:
    return "".join(word.capitalize() for word in name.replace(",", " ").split())
