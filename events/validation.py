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


# Validators by the schema object they were built for (the routing cache hands out the same dict
# on every emit while nothing changed): no JSON text to build per emit. The schema is kept with its
# validators, so its id cannot be reused by another object while the entry exists.
_by_schema: dict[int, tuple] = {}


def _validators_for(schema: dict):
    """(the jsonschema validator, a quick check or None) for ``schema``."""
    entry = _by_schema.get(id(schema))
    if entry is None or entry[0] is not schema:
        if len(_by_schema) > 256:
            _by_schema.clear()
        text = json.dumps(schema, sort_keys=True)
        entry = _by_schema[id(schema)] = (schema, compiled_schema(text), _quick_check(json.loads(text)))
    return entry[1], entry[2]


# The keywords ``_quick_check`` understands; a schema using any other gets no quick check.
_QUICK_ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "default", "deprecated"})
_QUICK_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # A float with an integral value is an integer to JSON Schema; the quick check says "not sure" (False).
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def _quick_check(schema):
    """A plain-Python predicate for a schema made of ``type``, ``properties``, ``required`` and ``items``
    (a schema) only, or None for any other schema.

    True means valid (what jsonschema would say); False means "not sure": the caller asks jsonschema,
    which decides and words the error. Draft 2020-12's ``jsonschema`` costs about 0.2 ms for an
    order payload; this, a few microseconds.
    """
    if schema is True or schema == {}:
        return lambda value: True
    if not isinstance(schema, dict) or not set(schema) <= {
        "type",
        "properties",
        "required",
        "items",
        *_QUICK_ANNOTATIONS,
    }:
        return None
    checks = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not names or not all(isinstance(n, str) and n in _QUICK_TYPES for n in names):
            return None
        tests = [_QUICK_TYPES[n] for n in names]
        checks.append(lambda value: any(test(value) for test in tests))
    if "required" in schema:
        required = schema["required"]
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            return None
        checks.append(lambda value: not isinstance(value, dict) or all(r in value for r in required))
    if "properties" in schema:
        if not isinstance(schema["properties"], dict):
            return None
        properties = {}
        for name, sub in schema["properties"].items():
            properties[name] = _quick_check(sub)
            if properties[name] is None:
                return None

        def check_properties(value):
            if not isinstance(value, dict):
                return True
            return all(name not in value or check(value[name]) for name, check in properties.items())

        checks.append(check_properties)
    if "items" in schema:
        item_check = _quick_check(schema["items"])
        if item_check is None:
            return None
        checks.append(lambda value: not isinstance(value, list) or all(item_check(item) for item in value))
    return lambda value: all(check(value) for check in checks)


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
        validator, quick = _validators_for(event_type.payload_schema)
        if (quick is not None and quick(payload)) or validator.is_valid(payload):
            return
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            message = f"{where}: {error.message}" if where else error.message
            raise ValidationError(
                {"payload": [f"The payload does not match the schema of {event_type.key}: {message[:300]}"]}
            )
