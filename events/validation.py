"""Checks on what a caller says happened (SPEC sections 3 and 6): type, source, id, time, order, payload.

Each raises (or collects) ``ValidationError`` keyed by the field at fault; ``PayloadTooLarge``
for the size limit. ``events.recording`` applies them all before an event is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid

import jsonschema
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from events.catalogue.names import FLAT, key_for
from events.exceptions import PayloadTooLarge
from events.formats import FLAT_RESERVED_KEYS
from events.models import EventType

MAX_PAYLOAD_DEPTH = 64
_KEY_RE = re.compile(r"[A-Za-z0-9_.:\-]+")
MAX_ORDER_REF_LENGTH = 100


def looks_like_type_key(key) -> bool:
    """Whether ``key`` could name an event type at all (a lookup of anything else is never needed)."""
    return isinstance(key, str) and 0 < len(key) <= 100 and _KEY_RE.fullmatch(key) is not None


def validated_event_type(key, known: dict[str, EventType] | None = None) -> EventType:
    """The type named ``key``: a catalogue key, or a native name of a seed format (``CUSTOMER_CREATED``).

    ``known``: the types already read, by key (a batch reads them in one query); none: one query.
    """
    if not isinstance(key, str) or not key:
        raise ValidationError({"type": ["An event type key is required."]})
    if len(key) > 100 or not _KEY_RE.fullmatch(key):
        # Not a key at all (control characters, lone surrogates...): no lookup needed, or possible.
        raise ValidationError({"type": ["Unknown event type; keys look like order.completed."]})
    if known is not None:
        event_type = known.get(key_for(key))
    else:
        event_type = EventType.objects.filter(pk=key_for(key)).first()
    if event_type is None:
        raise ValidationError({"type": [f"Unknown event type {key!r}."]})
    return event_type


def validated_event_id(event_id, errors) -> uuid.UUID | None:
    if event_id is None or event_id == "":
        return None
    if isinstance(event_id, uuid.UUID):
        return event_id
    try:
        return uuid.UUID(str(event_id))
    except (ValueError, TypeError, AttributeError):
        errors["id"] = ["The event id must be a UUID."]
        return None


def validated_occurred_at(value, errors) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            parsed = None
        if parsed is None:
            errors["occurred_at"] = ["occurred_at must be an ISO 8601 date and time."]
            return None
        value = parsed
    if not isinstance(value, dt.datetime):
        errors["occurred_at"] = ["occurred_at must be an ISO 8601 date and time."]
        return None
    if timezone.is_naive(value):
        errors["occurred_at"] = ["occurred_at must include a time zone (e.g. 2026-11-23T10:15:00Z)."]
        return None
    return value


def validated_order_ref(value, errors) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors["order_ref"] = ["order_ref must be a string."]
        return ""
    value = value.strip()
    if len(value) > MAX_ORDER_REF_LENGTH:
        errors["order_ref"] = [f"order_ref may be at most {MAX_ORDER_REF_LENGTH} characters."]
    elif any(ord(c) < 32 or c == "\x7f" or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        errors["order_ref"] = ["order_ref may not contain control characters or invalid Unicode."]
    return value


def _payload_problem(value, limit: int) -> str | None:
    """Too deep, or a NUL character anywhere (PostgreSQL's jsonb cannot store it): say which."""
    # Iterative, so a payload nested 100,000 levels deep cannot exhaust the stack.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return f"The payload is nested more than {limit} levels deep."
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    return "The payload may not contain NUL (\\u0000) characters."
                stack.append((child, depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            return "The payload may not contain NUL (\\u0000) characters."
    return None


@functools.lru_cache(maxsize=256)
def compiled_schema(schema_json: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema ``schema_json`` (its JSON text, keys sorted), built once per process.

    Keyed by the schema's text, not by the event type: an edited schema is a new key at once, and an
    unchanged one is not compiled again on every emit.
    """
    return jsonschema.Draft202012Validator(json.loads(schema_json))


def validate_payload(payload, event_type: EventType) -> None:
    if not isinstance(payload, dict):
        raise ValidationError({"payload": ["The payload must be a JSON object."]})
    problem = _payload_problem(payload, MAX_PAYLOAD_DEPTH)
    if problem:
        raise ValidationError({"payload": [problem]})
    try:
        encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValidationError({"payload": [f"The payload is not valid JSON: {str(exc)[:200]}"]}) from exc
    if event_type.pk in FLAT:
        # A flat body puts the payload's fields beside these (SPEC section 12): one would overwrite the other.
        clashing = [key for key in FLAT_RESERVED_KEYS if key in payload]
        if clashing:
            raise ValidationError(
                {
                    "payload": [
                        f"{event_type.key} can be sent to flat channels, whose body puts the payload's fields at "
                        f"the top level beside {', '.join(FLAT_RESERVED_KEYS)}; the payload may not use "
                        f"{', '.join(clashing)} as a key."
                    ]
                }
            )
    limit = settings.WEBHOOKS_MAX_PAYLOAD_BYTES
    if len(encoded) > limit:
        raise PayloadTooLarge({"payload": [f"The payload is {len(encoded)} bytes; the limit is {limit} bytes."]})
    if event_type.payload_schema:
        validator = compiled_schema(json.dumps(event_type.payload_schema, sort_keys=True))
        if validator.is_valid(payload):
            return
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            message = f"{where}: {error.message}" if where else error.message
            raise ValidationError(
                {"payload": [f"The payload does not match the schema of {event_type.key}: {message[:300]}"]}
            )
