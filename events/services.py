"""Writes on events: ``emit`` (SPEC section 3).

``emit`` runs in the caller's transaction: the event and its deliveries are written
with the caller's other changes and the dispatcher is kicked only once that
transaction commits, so a rollback sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import jsonschema
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channels.models import Subscription
from events.exceptions import EventConflict, PayloadTooLarge
from events.models import Event, EventType, Order, Source

MAX_PAYLOAD_DEPTH = 64
_KEY_RE = re.compile(r"[A-Za-z0-9_.:\-]+")
MAX_ORDER_REF_LENGTH = 100


def emit(
    key: str,
    *,
    source: str,
    payload: dict,
    order_ref: str | None = None,
    triggered_by=None,
    event_id: uuid.UUID | str | None = None,
    occurred_at: dt.datetime | str | None = None,
) -> Event:
    """Store one event and one delivery per matching subscription; queue them when the transaction commits.

    Emitting the same ``event_id`` again with the same type and payload returns the stored
    event and writes nothing; with another type or payload it raises ``EventConflict``.
    Bad input raises ``ValidationError`` keyed by field (``PayloadTooLarge`` for the size limit).
    """
    event, _created = emit_event(
        key,
        source=source,
        payload=payload,
        order_ref=order_ref,
        triggered_by=triggered_by,
        event_id=event_id,
        occurred_at=occurred_at,
    )
    return event


def emit_event(
    key: str,
    *,
    source: str,
    payload: dict,
    order_ref: str | None = None,
    triggered_by=None,
    event_id: uuid.UUID | str | None = None,
    occurred_at: dt.datetime | str | None = None,
) -> tuple[Event, bool]:
    """``emit``, also saying whether the event was created (False for a repeated id with the same content)."""
    event_type = _validated_event_type(key)
    errors: dict[str, list[str]] = {}
    if source not in Source.values:
        errors["source"] = [f"Unknown source; use one of {', '.join(Source.values)}."]
    event_uuid = _validated_event_id(event_id, errors)
    occurred = _validated_occurred_at(occurred_at, errors)
    order_ref = _validated_order_ref(order_ref, errors)
    if errors:
        raise ValidationError(errors)
    _validate_payload(payload, event_type)
    if triggered_by is not None and not getattr(triggered_by, "is_authenticated", False):
        triggered_by = None  # AnonymousUser (or anything that is not a stored user): nobody in particular

    if event_uuid is not None:
        existing = Event.objects.filter(pk=event_uuid).first()
        if existing is not None:
            return _same_or_conflict(existing, key=key, payload=payload), False

    event = Event(
        id=event_uuid or uuid.uuid4(),
        type=event_type,
        source=source,
        occurred_at=occurred or timezone.now(),
        payload=payload,
        order_ref=order_ref,
        triggered_by=triggered_by,
    )
    try:
        # A savepoint, so that losing a race for the same id leaves the caller's transaction usable.
        with transaction.atomic():
            event.save(force_insert=True)
            deliveries = _create_deliveries(event)
            if order_ref:
                _touch_order(order_ref, at=event.created_at)
    except IntegrityError:
        if event_uuid is None:
            raise
        existing = Event.objects.filter(pk=event_uuid).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, key=key, payload=payload), False

    if deliveries:
        from deliveries.services import queue_dispatch

        transaction.on_commit(queue_dispatch, robust=True)
    return event, True


def _create_deliveries(event: Event) -> list:
    from deliveries.models import Delivery, DeliveryStatus

    if not event.type.enabled:
        return []
    subscriptions = Subscription.objects.filter(
        event_type=event.type,
        active=True,
        channel__active=True,
        **{Subscription.source_field(event.source): True},
    ).values_list("pk", "channel_id")
    now = timezone.now()
    deliveries = [
        Delivery(
            event=event,
            subscription_id=subscription_id,
            channel_id=channel_id,
            event_type_id=event.type_id,
            source=event.source,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
        )
        for subscription_id, channel_id in subscriptions
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
    return deliveries


def _touch_order(ref: str, *, at: dt.datetime) -> None:
    # One statement either way, so concurrent emits for the same order do not race.
    Order.objects.bulk_create(
        [Order(ref=ref, first_event_at=at, last_event_at=at)],
        update_conflicts=True,
        unique_fields=["ref"],
        update_fields=["last_event_at"],
    )


def _same_or_conflict(existing: Event, *, key: str, payload: Any) -> Event:
    if existing.type_id != key or existing.payload != payload:
        raise EventConflict(existing.pk)
    return existing


def _validated_event_type(key) -> EventType:
    if not isinstance(key, str) or not key:
        raise ValidationError({"type": ["An event type key is required."]})
    if len(key) > 100 or not _KEY_RE.fullmatch(key):
        # Not a key at all (control characters, lone surrogates...): no lookup needed, or possible.
        raise ValidationError({"type": ["Unknown event type; keys look like order.completed."]})
    event_type = EventType.objects.filter(pk=key).first()
    if event_type is None:
        raise ValidationError({"type": [f"Unknown event type {key!r}."]})
    return event_type


def _validated_event_id(event_id, errors) -> uuid.UUID | None:
    if event_id is None or event_id == "":
        return None
    if isinstance(event_id, uuid.UUID):
        return event_id
    try:
        return uuid.UUID(str(event_id))
    except (ValueError, TypeError, AttributeError):
        errors["id"] = ["The event id must be a UUID."]
        return None


def _validated_occurred_at(value, errors) -> dt.datetime | None:
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


def _validated_order_ref(value, errors) -> str:
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


def _validate_payload(payload, event_type: EventType) -> None:
    if not isinstance(payload, dict):
        raise ValidationError({"payload": ["The payload must be a JSON object."]})
    problem = _payload_problem(payload, MAX_PAYLOAD_DEPTH)
    if problem:
        raise ValidationError({"payload": [problem]})
    try:
        encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValidationError({"payload": [f"The payload is not valid JSON: {str(exc)[:200]}"]}) from exc
    limit = settings.WEBHOOKS_MAX_PAYLOAD_BYTES
    if len(encoded) > limit:
        raise PayloadTooLarge({"payload": [f"The payload is {len(encoded)} bytes; the limit is {limit} bytes."]})
    if event_type.payload_schema:
        validator = jsonschema.Draft202012Validator(event_type.payload_schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            message = f"{where}: {error.message}" if where else error.message
            raise ValidationError(
                {"payload": [f"The payload does not match the schema of {event_type.key}: {message[:300]}"]}
            )
