"""``emit`` (SPEC section 3): write an event and one delivery per matching subscription.

``emit`` runs in the caller's transaction: the event and its deliveries are written
with the caller's other changes and the dispatcher is kicked only once that
transaction commits, so a rollback sends nothing. Platform code imports it as
``events.services.emit`` (the name the spec gives it), which is this function.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels import routing
from common.inserts import insert_statement, run_together
from deliveries.engine.kick import queue_dispatch_on_commit
from deliveries.models import Delivery, DeliveryStatus
from events.catalogue.names import key_for
from events.exceptions import EventConflict, PayloadTooLarge
from events.models import Event
from events.recording import (
    EventInput,
    order_touch_statement,
    same_or_conflict,
    touch_orders,
    validate_event_input,
)
from events.validation import looks_like_type_key


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
    except_channel_ids: tuple[int, ...] = (),
) -> tuple[Event, bool]:
    """``emit``, also saying whether the event was created (False for a repeated id with the same content).

    ``except_channel_ids``: channels this event is never delivered to (an operational event about them).
    """
    # The type and its subscriptions come from the routing cache (``channels.routing``): no query for
    # either while no event type, subscription or channel changed.
    view = routing.snapshot()  # one look at the routing version for the type and its subscriptions
    known_types = view.event_types({key_for(key)}) if looks_like_type_key(key) else {}
    given = validate_event_input(
        key,
        source=source,
        payload=payload,
        order_ref=order_ref,
        triggered_by=triggered_by,
        event_id=event_id,
        occurred_at=occurred_at,
        known_types=known_types,
    )
    if given.event_id is not None:
        existing = Event.objects.filter(pk=given.event_id).first()
        if existing is not None:
            return same_or_conflict(existing, given), False

    event = given.new_event()
    if given.event_id is None:
        # A new random id: no other writer can have it, so no savepoint is needed for a race.
        deliveries = _write_event(event, view, except_channel_ids=except_channel_ids)
    else:
        try:
            # A savepoint, so that losing a race for the same id leaves the caller's transaction usable.
            with transaction.atomic():
                deliveries = _write_event(event, view, except_channel_ids=except_channel_ids)
        except IntegrityError:
            existing = Event.objects.filter(pk=given.event_id).first()
            if existing is None:
                raise
            return same_or_conflict(existing, given), False

    if deliveries:
        queue_dispatch_on_commit()
    return event, True


def _write_event(event: Event, view: routing.Snapshot, *, except_channel_ids=()) -> list[Delivery]:
    """Insert ``event``, its deliveries and its order's timeline entry; the deliveries written (without ids).

    One statement on PostgreSQL (``run_together``); the texts are built once per process.
    """
    deliveries = _new_deliveries(event, view, except_channel_ids=except_channel_ids)
    event_insert = insert_statement([event])  # first: it sets created_at, which the order's entry takes
    run_together(
        [
            event_insert,
            insert_statement(deliveries) if deliveries else None,
            order_touch_statement(event.order_ref, at=event.created_at) if event.order_ref else None,
        ]
    )
    return deliveries


def new_delivery(event: Event, subscription_id: int, channel_id: int, *, now: dt.datetime) -> Delivery:
    """A pending delivery of ``event`` through one subscription, due at once (not saved)."""
    return Delivery(
        event=event,
        subscription_id=subscription_id,
        channel_id=channel_id,
        event_type_id=event.type_id,
        source=event.source,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
    )


def _new_deliveries(event: Event, view: routing.Snapshot, *, except_channel_ids=()) -> list[Delivery]:
    """One pending delivery per active subscription (on an active channel) matching ``event`` (not saved)."""
    if not event.type.enabled:
        return []
    routes = view.matching({event.type_id}).get((event.type_id, event.source), ())
    now = timezone.now()
    return [
        new_delivery(event, subscription_id, channel_id, now=now)
        for subscription_id, channel_id in routes
        if channel_id not in except_channel_ids
    ]


@dataclass
class BatchItem:
    """One event of a batch: what it became. ``status`` as HTTP: 201 new, 200 seen before, 409, 400 or 413."""

    status: int
    event: Event | None = None
    error: Exception | None = None
    deliveries: list[int] = field(default_factory=list)


def emit_batch(items: list[dict], *, triggered_by=None) -> list[BatchItem]:
    """``emit_event`` for many events, one result each, in the order given.

    Each item is a dict of ``emit_event``'s arguments (``key``, ``source``, ``payload``, ``event_id``,
    ``order_ref``, ``occurred_at``). Items are independent: one that is invalid or conflicts does
    not stop the others. The valid new ones are written together, one INSERT per table (events,
    deliveries, orders) in one transaction; should that fail (another request wrote one of the
    same ids meanwhile), each is written again on its own, in a transaction of its own.
    """
    known_types = routing.event_types({key_for(k) for item in items if isinstance(k := item.get("key"), str) and k})
    results: list[BatchItem | None] = [None] * len(items)
    given: dict[int, EventInput] = {}
    for index, item in enumerate(items):
        try:
            given[index] = validate_event_input(
                item.get("key"),
                source=item.get("source"),
                payload=item.get("payload"),
                order_ref=item.get("order_ref"),
                triggered_by=triggered_by,
                event_id=item.get("event_id"),
                occurred_at=item.get("occurred_at"),
                known_types=known_types,
            )
        except ValidationError as exc:
            results[index] = BatchItem(413 if isinstance(exc, PayloadTooLarge) else 400, error=exc)

    ids = {g.event_id for g in given.values() if g.event_id is not None}
    stored = Event.objects.in_bulk(ids) if ids else {}
    new: dict[int, Event] = {}
    first_of_id: dict[uuid.UUID, Event] = {}
    for index, g in given.items():
        earlier = stored.get(g.event_id) or first_of_id.get(g.event_id)
        if earlier is not None:
            try:
                results[index] = BatchItem(200, event=same_or_conflict(earlier, g))
            except EventConflict as exc:
                results[index] = BatchItem(409, error=exc)
            continue
        event = g.new_event()
        new[index] = event
        first_of_id[event.pk] = event

    if new:
        try:
            with transaction.atomic():
                created = _write_new_events(list(new.values()))
        except IntegrityError:
            created = None
        if created is None:
            for index in new:
                results[index] = _emit_one(given[index])
        else:
            for index, event in new.items():
                results[index] = BatchItem(201, event=event, deliveries=created.get(event.pk, []))
            if any(created.values()):
                queue_dispatch_on_commit()

    seen_before = [r.event.pk for r in results if r is not None and r.status == 200]
    if seen_before:
        by_event: dict[uuid.UUID, list[int]] = {}
        for event_id, delivery_id in Delivery.objects.filter(event_id__in=seen_before).values_list("event_id", "pk"):
            by_event.setdefault(event_id, []).append(delivery_id)
        for r in results:
            if r is not None and r.status == 200:
                r.deliveries = sorted(by_event.get(r.event.pk, []))
    return results


def _write_new_events(events: list[Event]) -> dict[uuid.UUID, list[int]]:
    """Insert ``events``, their deliveries and their orders: one statement per table. Delivery ids by event."""
    Event.objects.bulk_create(events)
    enabled_types = {e.type_id for e in events if e.type.enabled}
    matching = routing.matching(enabled_types) if enabled_types else {}
    now = timezone.now()
    deliveries = [
        new_delivery(event, subscription_id, channel_id, now=now)
        for event in events
        for subscription_id, channel_id in matching.get((event.type_id, event.source), ())
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
    orders: dict[str, dt.datetime] = {}
    for event in events:
        if event.order_ref:
            orders[event.order_ref] = max(orders.get(event.order_ref, event.created_at), event.created_at)
    if orders:
        touch_orders(orders)
    created: dict[uuid.UUID, list[int]] = {e.pk: [] for e in events}
    for delivery in deliveries:
        created[delivery.event_id].append(delivery.pk)
    return created


def _emit_one(given: EventInput) -> BatchItem:
    """One event of a batch on its own (after the batch's single write failed)."""
    try:
        with transaction.atomic():
            event, created = emit_event(
                given.event_type.pk,
                source=given.source,
                payload=given.payload,
                order_ref=given.order_ref or None,
                triggered_by=given.triggered_by,
                event_id=given.event_id,
                occurred_at=given.occurred_at,
            )
    except EventConflict as exc:
        return BatchItem(409, error=exc)
    except ValidationError as exc:
        return BatchItem(400, error=exc)
    ids = sorted(Delivery.objects.filter(event_id=event.pk).values_list("pk", flat=True))
    return BatchItem(201 if created else 200, event=event, deliveries=ids)
