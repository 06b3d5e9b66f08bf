"""User actions on deliveries: manual retry (one, or many at once), the test event, retention purge.

The admin, the API, the tasks and the commands call these; the sending itself is the
engine's (``deliveries.engine``). Refusals carry messages safe to show as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import Channel
from channels.validation import format_refusal
from common.audit import record as record_change
from common.permissions import Action
from deliveries.engine.claims import Claimed, lease_seconds
from deliveries.engine.jobs import build_job
from deliveries.engine.kick import queue_dispatch_on_commit
from deliveries.engine.refusals import RETRY_PERMISSION, retry_refusal_reason
from deliveries.engine.results import Finished, record
from deliveries.engine.send import perform, request_body
from deliveries.exceptions import RetryRefused
from deliveries.models import Attempt, Delivery, DeliveryStatus, DemoReceipt, Trigger
from events.catalogue import TEST_EVENT_TYPE
from events.models import IDEMPOTENCY_KEY_HOURS, Event, EventType, IdempotencyRecord, Source

# "Retry selected" and "Retry all failed" look at no more than this many rows in one go.
RETRY_BATCH_LIMIT = 500
SEND_TEST_PERMISSION = "channels.send_test_event"
# Each action with every permission it needs (``common.permissions``): the admin, the API and
# these services ask the same ones. Resend and recover (issue 11) follow the same pattern.
RETRY = Action(
    "retry", ("deliveries.view_delivery", RETRY_PERMISSION), "You do not have permission to retry deliveries."
)
SEND_TEST = Action(
    "send test event",
    ("channels.view_channel", SEND_TEST_PERMISSION),
    "You do not have permission to send test events.",
)


# --- Manual retry (SPEC section 4) --------------------------------------------------


def request_manual_retry(*, delivery: Delivery, user) -> Delivery:
    """Queue one manual attempt of a failed delivery (trigger ``manual``, recorded with ``user``).

    Raises ``PermissionDenied`` for a user who may not retry, ``RetryRefused`` with the reason when
    this delivery may not be retried. No automatic retries follow it.
    """
    RETRY.require(user)
    reason = retry_refusal_reason(delivery=delivery, user=user)
    if reason:
        raise RetryRefused(reason)
    now = timezone.now()
    with transaction.atomic():
        # Conditional, so two clicks (or two staff) queue one retry, not two.
        updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING,
            pending_trigger=Trigger.MANUAL,
            requested_by=user,
            next_attempt_at=now,
            completed_at=None,
            updated_at=now,
        )
        if not updated:
            raise RetryRefused("This delivery is no longer failed; it may already be retrying.")
        record_change(user=user, obj=delivery, message="Manual retry requested.")
        queue_dispatch_on_commit()
    delivery.refresh_from_db()
    return delivery


@dataclass
class RetryReport:
    """What ``retry_deliveries`` did: the deliveries queued, and why the others were skipped."""

    queued: list[Delivery] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> how many
    limited_to: int | None = None  # set when more were selected than one go looks at


def retry_deliveries(*, deliveries, user) -> RetryReport:
    """A manual retry of each of ``deliveries`` (a queryset, at most ``RETRY_BATCH_LIMIT`` looked at)."""
    RETRY.require(user)
    report = RetryReport()
    batch = list(deliveries[: RETRY_BATCH_LIMIT + 1])
    if len(batch) > RETRY_BATCH_LIMIT:
        batch = batch[:RETRY_BATCH_LIMIT]
        report.limited_to = RETRY_BATCH_LIMIT
    for delivery in batch:
        reason = retry_refusal_reason(delivery=delivery, user=user)
        if reason is None:
            try:
                request_manual_retry(delivery=delivery, user=user)
            except RetryRefused as exc:  # changed under our feet, e.g. retried by someone else
                reason = str(exc)
        if reason is None:
            report.queued.append(delivery)
        else:
            report.skipped[reason] += 1
    return report


# --- Test event (SPEC section 4) ----------------------------------------------------


def types_for_test_send(*, channel: Channel) -> list[EventType]:
    """The event types a test send to ``channel`` may carry: ``test`` first, then in the catalogue's order.

    The ``test`` type always; besides it every enabled type the channel may get: one its payload format
    names (a flat channel carries its two document types only), postback-only types to postback channels only.
    """
    types = [t for t in EventType.objects.order_by("position", "key") if _test_refusal(channel, t) is None]
    return sorted(types, key=lambda t: t.key != TEST_EVENT_TYPE)  # the default first


def _test_refusal(channel: Channel, event_type: EventType) -> str | None:
    key = event_type.key
    if key == TEST_EVENT_TYPE:
        return None
    if not event_type.enabled:
        return _("The event type %(key)s is switched off; switch it on first.") % {"key": key}
    if event_type.postback_only and not channel.is_postback:
        return _("The event type %(key)s is sent to postback channels only.") % {"key": key}
    if channel.is_postback:
        return format_refusal(key, channel.format)
    return None


def type_for_test_send(*, channel: Channel, event_type_key: str | None) -> EventType:
    """The type a test send of ``event_type_key`` (None or empty: ``test``) to ``channel`` carries.

    Raises ``ValidationError`` keyed ``event_type`` for an unknown type or one this channel may not get.
    """
    key = (event_type_key or "").strip() or TEST_EVENT_TYPE
    event_type = EventType.objects.filter(pk=key).first() if len(key) <= 100 else None
    if event_type is None:
        raise ValidationError({"event_type": [_("Unknown event type %(key)s.") % {"key": key[:100]}]})
    refusal = _test_refusal(channel, event_type)
    if refusal:
        raise ValidationError({"event_type": [refusal]})
    return event_type


def preview_test_send(*, channel: Channel, event_type: EventType, user=None) -> str:
    """The body a test send of ``event_type`` to ``channel`` would send now, pretty-printed where it is JSON.

    Built by the code that builds every attempt's body (``request_body``); only the event's id and time differ
    from what the send itself will use (both are new on every send).
    """
    person = user if user is not None and user.is_authenticated else None
    event = Event(
        type=event_type,
        source=Source.ADMIN,
        occurred_at=timezone.now(),
        payload=event_type.example_payload,
        triggered_by=person,
    )
    delivery = Delivery(event=event, channel=channel, event_type=event_type, source=event.source, is_test=True)
    body = request_body(build_job(delivery=delivery, trigger=Trigger.TEST, retry_count=0))
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body  # an e-mail's text


def send_test_event(*, channel: Channel, user=None, event_type_key: str | None = None) -> Attempt:
    """Send a test event to ``channel`` now, with the catalogue's example payload of its type; return the attempt.

    ``event_type_key``: any type ``types_for_test_send`` offers (default ``test``); anything else raises
    ``ValidationError`` keyed ``event_type``. The delivery is marked ``is_test``: it stays out of success
    rates, the log's default view, order timelines and alerting, and is never retried or resent.

    Synchronous: the HTTP call happens in the caller's thread, outside any transaction
    of ours, so a slow endpoint never holds a database lock. Like every send, its attempt
    row is written before the request goes out and completed by the engine's recorder.
    """
    SEND_TEST.require(user)
    event_type = type_for_test_send(channel=channel, event_type_key=event_type_key)
    claimed = _test_claim(channel=channel, user=user, event_type=event_type)
    record([Finished(claimed, perform(claimed.job))])
    attempt = Attempt.objects.select_related("delivery", "triggered_by").get(pk=claimed.attempt_id)
    outcome = "delivered" if attempt.succeeded else f"failed ({attempt.response_status or attempt.error})"
    record_change(user=user, obj=channel, message=f"Sent a test event: {outcome}; event type {event_type.key}.")
    return attempt


def _test_claim(*, channel: Channel, user, event_type: EventType) -> Claimed:
    """The test event, its one delivery (claimed by this caller, so no worker takes it) and its attempt row.

    The event has no ``order_ref``, whatever its example payload says: a test send is in no order's timeline.
    """
    now = timezone.now()
    person = user if user is not None and user.is_authenticated else None
    token = uuid.uuid4()
    started = time.monotonic()
    timeout = float(min(channel.timeout, settings.WEBHOOKS_TIMEOUT_S))
    with transaction.atomic():
        event = Event.objects.create(
            type=event_type,
            source=Source.ADMIN,
            occurred_at=now,
            payload=event_type.example_payload,
            triggered_by=person,
        )
        delivery = Delivery.objects.create(
            event=event,
            subscription=None,
            channel=channel,
            event_type=event_type,
            source=event.source,
            status=DeliveryStatus.SENDING,
            pending_trigger=Trigger.TEST,
            requested_by=person,
            is_test=True,
            attempt_count=1,
            claim_token=token,
            lease_expires_at=now + dt.timedelta(seconds=lease_seconds(timeout)),
        )
        attempt = Attempt.objects.create(
            delivery=delivery,
            number=1,
            trigger=Trigger.TEST,
            triggered_by=person,
            started_at=now,
            request_url=channel.url,
        )
    delivery.event, delivery.channel, delivery.event_type = event, channel, event_type
    return Claimed(
        job=build_job(delivery=delivery, trigger=Trigger.TEST, retry_count=0),
        delivery_id=delivery.pk,
        channel_id=channel.pk,
        attempt_id=attempt.pk,
        token=token,
        trigger=Trigger.TEST,
        automatic_attempts=0,
        claimed_at=started,
        lease_s=lease_seconds(timeout),
    )


# --- Retention (SPEC section 5) -------------------------------------------------------


def purge_old_records(*, days: int | None = None, batch_size: int = 1000, max_seconds: float = 60.0) -> dict:
    """Delete attempts, events (with their deliveries) and demo receipts older than the retention, in batches,
    and Idempotency-Key records older than 24 hours.

    Events with a delivery still pending or sending are kept until it finishes.
    """
    days = days or settings.WEBHOOKS_RETENTION_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    deadline = time.monotonic() + max_seconds
    purged = {"attempts": 0, "events": 0, "demo_receipts": 0, "idempotency_keys": 0}
    while time.monotonic() < deadline:
        ids = list(Attempt.objects.filter(started_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        purged["attempts"] += Attempt.objects.filter(pk__in=ids).delete()[0]
    while time.monotonic() < deadline:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff)
            .exclude(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        with transaction.atomic():
            # Children first, in explicit statements, so no cascade collects millions of rows in memory.
            purged["attempts"] += Attempt.objects.filter(delivery__event_id__in=ids).delete()[0]
            Delivery.objects.filter(event_id__in=ids).delete()
            purged["events"] += Event.objects.filter(pk__in=ids).delete()[1].get("events.Event", 0)
    while time.monotonic() < deadline:
        ids = list(DemoReceipt.objects.filter(received_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        purged["demo_receipts"] += DemoReceipt.objects.filter(pk__in=ids).delete()[0]
    # Idempotency-Key answers are replayed for 24 hours only, whatever the retention.
    key_cutoff = timezone.now() - dt.timedelta(hours=IDEMPOTENCY_KEY_HOURS)
    while time.monotonic() < deadline:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=key_cutoff).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        purged["idempotency_keys"] += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
    return purged
