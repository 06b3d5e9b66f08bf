"""Writing an event, the part that is the events app's: what the caller said, checked; the same id
seen again; the order the event refers to. ``deliveries.fanout.emit`` puts them together with
the deliveries, in the caller's transaction (in a savepoint of it when the caller gave the id).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone

from common.inserts import Statement
from events.catalogue.names import key_for
from events.exceptions import EventConflict
from events.models import Event, EventType, Order, Source
from events.validation import (
    validate_payload,
    validated_event_id,
    validated_event_type,
    validated_occurred_at,
    validated_order_ref,
)


@dataclass(frozen=True)
class EventInput:
    """An event as the caller described it, every field checked."""

    event_type: EventType
    source: str
    payload: dict
    event_id: uuid.UUID | None  # None: the caller gave none, a new one is made
    occurred_at: dt.datetime | None
    order_ref: str
    triggered_by: Any

    def new_event(self) -> Event:
        return Event(
            id=self.event_id or uuid.uuid4(),
            type=self.event_type,
            source=self.source,
            occurred_at=self.occurred_at or timezone.now(),
            payload=self.payload,
            order_ref=self.order_ref,
            triggered_by=self.triggered_by,
        )


def validate_event_input(
    key: str,
    *,
    source: str,
    payload: dict,
    order_ref: str | None = None,
    triggered_by=None,
    event_id: uuid.UUID | str | None = None,
    occurred_at: dt.datetime | str | None = None,
    known_types: dict[str, EventType] | None = None,
) -> EventInput:
    """Check ``emit``'s arguments; raise ``ValidationError`` keyed by field (``PayloadTooLarge`` for the size).

    ``known_types``: the event types by key, read beforehand (a batch); none: read here.
    """
    event_type = validated_event_type(key, known_types)
    errors: dict[str, list[str]] = {}
    if source not in Source.values:
        errors["source"] = [f"Unknown source; use one of {', '.join(Source.values)}."]
    event_uuid = validated_event_id(event_id, errors)
    occurred = validated_occurred_at(occurred_at, errors)
    order_ref = validated_order_ref(order_ref, errors)
    if errors:
        raise ValidationError(errors)
    validate_payload(payload, event_type)
    if triggered_by is not None and not getattr(triggered_by, "is_authenticated", False):
        triggered_by = None  # AnonymousUser (or anything that is not a stored user): nobody in particular
    return EventInput(event_type, source, payload, event_uuid, occurred, order_ref, triggered_by)


def same_or_conflict(existing: Event, given: EventInput) -> Event:
    """The stored event when an id is emitted again with the same content; ``EventConflict`` naming what differs.

    Compared: type, source, payload, order_ref (none given is none), and occurred_at when given
    (none given is "now", which says nothing about the first time).
    """
    differs = []
    if existing.type_id != given.event_type.pk:
        differs.append("type")
    if existing.source != given.source:
        differs.append("source")
    if existing.payload != given.payload:
        differs.append("payload")
    if existing.order_ref != given.order_ref:
        differs.append("order_ref")
    if given.occurred_at is not None and existing.occurred_at != given.occurred_at:
        differs.append("occurred_at")
    if differs:
        raise EventConflict(existing.pk, differs)
    return existing


def event_types_named(keys) -> dict[str, EventType]:
    """The event types ``keys`` name (catalogue keys or native names), by key, in one query."""
    wanted = {key_for(k) for k in keys if isinstance(k, str) and k}
    return EventType.objects.in_bulk(wanted) if wanted else {}


def touch_order(ref: str, *, at: dt.datetime) -> None:
    """Record that an event about order ``ref`` happened ``at`` (the Orders view lists these)."""
    touch_orders({ref: at})


def order_touch_statement(ref: str, *, at: dt.datetime) -> Statement:
    """``touch_order`` as a statement to run with others (``common.inserts.run_together``): the same upsert."""
    alias = router.db_for_write(Order)
    connection = connections[alias]
    key = (alias, connection.vendor)
    sql = _ORDER_UPSERT.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        meta = Order._meta
        ref_col, first_col, last_col = (
            quote(meta.get_field(n).column) for n in ("ref", "first_event_at", "last_event_at")
        )
        sql = _ORDER_UPSERT[key] = (
            f"INSERT INTO {quote(meta.db_table)} ({ref_col}, {first_col}, {last_col}) VALUES (%s, %s, %s) "
            f"ON CONFLICT ({ref_col}) DO UPDATE SET {last_col} = EXCLUDED.{last_col}"
        )
    when = Order._meta.get_field("last_event_at").get_db_prep_save(at, connection)
    return Statement(sql, [Order._meta.get_field("ref").get_db_prep_save(ref, connection), when, when], alias=alias)


_ORDER_UPSERT: dict[tuple, str] = {}


def touch_orders(latest: dict[str, dt.datetime]) -> None:
    """``touch_order`` for several orders (ref: when), in one statement."""
    # One statement either way, so concurrent emits for the same order do not race.
    Order.objects.bulk_create(
        [Order(ref=ref, first_event_at=at, last_event_at=at) for ref, at in sorted(latest.items())],
        update_conflicts=True,
        unique_fields=["ref"],
        update_fields=["last_event_at"],
    )
