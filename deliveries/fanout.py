"""``emit`` (SPEC section 3): write an event and one delivery per matching subscription.

``emit`` runs in the caller's transaction: the event and its deliveries are written
with the caller's other changes and the dispatcher is kicked only once that
transaction commits, so a rollback sends nothing. Platform code imports it as
``events.services.emit`` (the name the spec gives it), which is this function.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.models import Subscription
from deliveries.engine.kick import queue_dispatch_on_commit
from deliveries.models import Delivery, DeliveryStatus
from events.models import Event
from events.recording import same_or_conflict, touch_order, validate_event_input


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
    given = validate_event_input(
        key,
        source=source,
        payload=payload,
        order_ref=order_ref,
        triggered_by=triggered_by,
        event_id=event_id,
        occurred_at=occurred_at,
    )
    if given.event_id is not None:
        existing = Event.objects.filter(pk=given.event_id).first()
        if existing is not None:
            return same_or_conflict(existing, given), False

    event = given.new_event()
    try:
        # A savepoint, so that losing a race for the same id leaves the caller's transaction usable.
        with transaction.atomic():
            event.save(force_insert=True)
            deliveries = _create_deliveries(event, except_channel_ids=except_channel_ids)
            if event.order_ref:
                touch_order(event.order_ref, at=event.created_at)
    except IntegrityError:
        if given.event_id is None:
            raise
        existing = Event.objects.filter(pk=given.event_id).first()
        if existing is None:
            raise
        return same_or_conflict(existing, given), False

    if deliveries:
        queue_dispatch_on_commit()
    return event, True


def _create_deliveries(event: Event, *, except_channel_ids=()) -> list[Delivery]:
    if not event.type.enabled:
        return []
    subscriptions = (
        Subscription.objects.filter(
            event_type=event.type,
            active=True,
            channel__active=True,
            **{Subscription.source_field(event.source): True},
        )
        .exclude(channel_id__in=except_channel_ids)
        .values_list("pk", "channel_id")
    )
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
