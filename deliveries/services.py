"""Writes on deliveries: queueing, the outcome of an attempt, manual retry, test events, purge.

The dispatcher (``deliveries.dispatcher``) claims and sends; the rules of SPEC section 4
(which outcome retries, after how long, what a manual retry may do) live here.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deliveries.exceptions import RetryRefused
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind, Trigger
from deliveries.sender import Job, Outcome, perform

logger = logging.getLogger(__name__)

TEST_EVENT_TYPE = "test"
# Kicks from one process closer together than this are coalesced into one dispatcher
# run: that run keeps polling until this long after the kick, so it sees what the
# skipped kicks would have shown it (see ``deliveries.dispatcher``).
KICK_WINDOW_S = 0.05
# Retry-After is honoured up to this many seconds, so an endpoint cannot park a delivery for days.
RETRY_AFTER_CAP_S = 3600

_kick_lock = threading.Lock()
_last_kick = 0.0


def queue_dispatch() -> None:
    """Ask a worker to send what is due now. Call it from ``transaction.on_commit``.

    Coalesced per process (at most one kick per ``KICK_WINDOW_S``), so 1,000 emits a
    second do not become 1,000 broker jobs a second. A lost kick costs latency, not
    deliveries: the sweeper schedule finds due rows by itself.
    """
    global _last_kick
    now = time.monotonic()
    with _kick_lock:
        if now - _last_kick < KICK_WINDOW_S:
            return
        _last_kick = now
    try:
        from django_q.tasks import async_task

        async_task("deliveries.tasks.dispatch", time.time(), q_options={"task_name": "dispatch"})
    except Exception:  # the broker is down: the sweeper will find the rows
        logger.exception("Could not queue the dispatcher; the sweeper will pick the deliveries up")


# --- The rules of one attempt (SPEC section 4) --------------------------------------


def retry_delay(*, retry_number: int, retry_after_s: float | None = None) -> float:
    """Seconds before automatic retry ``retry_number`` (1-based): backoff with jitter, at least Retry-After."""
    delays = settings.WEBHOOKS_RETRY_DELAYS
    base = float(delays[min(retry_number - 1, len(delays) - 1)])
    delay = base + random.uniform(0, base * 0.1)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, getattr(settings, "WEBHOOKS_RETRY_AFTER_CAP_S", RETRY_AFTER_CAP_S)))
    return delay


def record_outcome(*, delivery: Delivery, outcome: Outcome, trigger: str, now: dt.datetime) -> Attempt:
    """Apply ``outcome`` to ``delivery`` in memory (not saved) and return the unsaved ``Attempt``.

    The dispatcher saves many of these in bulk; ``send_test_event`` saves one.
    """
    number = delivery.attempt_count + 1
    attempt = Attempt(
        delivery_id=delivery.pk,
        number=number,
        trigger=trigger,
        triggered_by_id=delivery.requested_by_id if trigger == Trigger.MANUAL else None,
        started_at=outcome.started_at,
        duration_ms=outcome.duration_ms,
        request_url=outcome.request_url[:2000],
        request_headers=outcome.request_headers,
        request_body=outcome.request_body,
        response_status=outcome.response_status,
        response_headers=outcome.response_headers,
        response_body=outcome.response_body,
        error=outcome.error,
        error_detail=outcome.error_detail,
    )
    delivery.attempt_count = number
    if trigger == Trigger.AUTOMATIC:
        delivery.automatic_attempts += 1
    delivery.last_error = outcome.error
    delivery.last_response_status = outcome.response_status
    delivery.lease_expires_at = None
    delivery.claim_token = None
    delivery.pending_trigger = Trigger.AUTOMATIC
    delivery.requested_by_id = None
    delivery.updated_at = now

    retries_made = delivery.automatic_attempts - 1
    if outcome.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
        delivery.completed_at = now
        delivery.failure_reason = ""
    elif trigger == Trigger.AUTOMATIC and outcome.retryable and retries_made < settings.WEBHOOKS_MAX_RETRIES:
        delivery.status = DeliveryStatus.PENDING
        delay = retry_delay(retry_number=retries_made + 1, retry_after_s=outcome.retry_after_s)
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        delivery.completed_at = None
        delivery.failure_reason = (
            f"{_describe(outcome)}; retry {retries_made + 1} of {settings.WEBHOOKS_MAX_RETRIES} scheduled."
        )
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.completed_at = now
        delivery.failure_reason = _failure_reason(outcome, trigger=trigger, retries_made=retries_made)
    return attempt


def refuse_without_attempt(*, delivery: Delivery, error: str, reason: str, now: dt.datetime) -> None:
    """Fail a claimed delivery that must not be sent (channel or subscription gone inactive...), in memory."""
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = error
    delivery.failure_reason = reason
    delivery.next_attempt_at = None
    delivery.completed_at = now
    delivery.lease_expires_at = None
    delivery.claim_token = None
    delivery.pending_trigger = Trigger.AUTOMATIC
    delivery.requested_by_id = None
    delivery.updated_at = now


def _describe(outcome: Outcome) -> str:
    if outcome.error == ErrorKind.HTTP_STATUS:
        return f"HTTP {outcome.response_status}"
    label = ErrorKind(outcome.error).label if outcome.error in ErrorKind.values else outcome.error
    return f"{label}: {outcome.error_detail}" if outcome.error_detail else label


def _failure_reason(outcome: Outcome, *, trigger: str, retries_made: int) -> str:
    text = _describe(outcome)
    if trigger == Trigger.MANUAL:
        return f"{text} (manual retry; no automatic retries follow)."
    if outcome.error == ErrorKind.TIMEOUT:
        return f"{text} Timeouts are not retried automatically; a manual retry is possible where allowed."
    if outcome.retryable:
        return f"{text}, still failing after {retries_made} automatic retries."
    if trigger == Trigger.TEST:
        return text
    return f"{text}; not retried (only 408, 425, 429, 500, 502, 503, 504 and connection errors are)."


# --- Building jobs ------------------------------------------------------------------


def build_job(*, delivery: Delivery, trigger: str) -> Job:
    """The ``Job`` for one attempt of ``delivery`` (its event, channel, event type loaded)."""
    from channels.services import signing_secrets

    event = delivery.event
    channel = delivery.channel
    user = event.triggered_by
    return Job(
        kind=channel.kind,
        url=channel.url,
        email_to=channel.email_to,
        headers=dict(channel.headers or {}),
        timeout=float(min(channel.timeout or settings.WEBHOOKS_TIMEOUT_S, settings.WEBHOOKS_TIMEOUT_S)),
        secrets=tuple(signing_secrets(channel)) if channel.is_postback else (),
        event_id=str(event.pk),
        event_type=delivery.event_type_id,
        event_type_name=delivery.event_type.name,
        occurred_at=event.occurred_at,
        source=event.source,
        trigger_user=user.get_username() if user is not None else None,
        webhook_config=delivery.subscription_id,
        retry_count=delivery.attempt_count,
        payload=event.payload,
        delivery_id=delivery.pk,
        channel_id=channel.pk,
    )


# --- Manual retry (SPEC section 4) --------------------------------------------------


def retry_refusal_reason(*, delivery: Delivery, user) -> str | None:
    """None when ``user`` may retry ``delivery`` by hand now, else why not (safe to show)."""
    if user is None or not user.has_perm("deliveries.retry_delivery"):
        return "You do not have permission to retry deliveries."
    if delivery.status != DeliveryStatus.FAILED:
        return f"Only failed deliveries can be retried; this one is {delivery.get_status_display().lower()}."
    event_type = delivery.event_type
    if not event_type.manual_retry:
        return (
            f"Deliveries of {event_type.key} cannot be retried by hand; manual retry is only available "
            "for event types that allow it (by default order.completed, transaction.approved, "
            "transaction.declined and refund.applied)."
        )
    if not delivery.channel.active:
        return f"The channel {delivery.channel.name!r} is inactive; activate it before retrying."
    return None


def request_manual_retry(*, delivery: Delivery, user) -> Delivery:
    """Queue one manual attempt of a failed delivery (trigger ``manual``, recorded with ``user``).

    Raises ``RetryRefused`` with the reason when it is not allowed. No automatic retries follow it.
    """
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
        transaction.on_commit(queue_dispatch, robust=True)
    delivery.refresh_from_db()
    return delivery


# --- Test event (SPEC section 4) ----------------------------------------------------


def send_test_event(*, channel, user=None) -> Attempt:
    """Send the ``test`` event with the catalogue's dummy payload to ``channel`` now; return the attempt.

    Synchronous: the HTTP call happens in the caller's thread, outside any transaction
    of ours, so a slow endpoint never holds a database lock.
    """
    from events.models import Event, EventType, Source

    event_type = EventType.objects.get(pk=TEST_EVENT_TYPE)
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            type=event_type,
            source=Source.ADMIN,
            occurred_at=now,
            payload=event_type.example_payload,
            triggered_by=user if user is not None and user.is_authenticated else None,
        )
        delivery = Delivery.objects.create(
            event=event,
            subscription=None,
            channel=channel,
            event_type=event_type,
            source=event.source,
            status=DeliveryStatus.SENDING,
            pending_trigger=Trigger.TEST,
            requested_by=user if user is not None and user.is_authenticated else None,
            lease_expires_at=now + dt.timedelta(seconds=settings.WEBHOOKS_TIMEOUT_S + 60),
        )
    delivery.event = event
    delivery.channel = channel
    delivery.event_type = event_type
    outcome = perform(build_job(delivery=delivery, trigger=Trigger.TEST))
    attempt = record_outcome(delivery=delivery, outcome=outcome, trigger=Trigger.TEST, now=timezone.now())
    attempt.triggered_by = delivery.event.triggered_by
    with transaction.atomic():
        attempt.save()
        delivery.save(update_fields=DELIVERY_OUTCOME_FIELDS)
    attempt.delivery = delivery
    return attempt


DELIVERY_OUTCOME_FIELDS = [
    "status",
    "attempt_count",
    "automatic_attempts",
    "next_attempt_at",
    "lease_expires_at",
    "claim_token",
    "pending_trigger",
    "requested_by",
    "last_error",
    "last_response_status",
    "failure_reason",
    "completed_at",
    "updated_at",
]


# --- Recovery and retention (SPEC section 5) ------------------------------------------


def requeue_expired_leases(*, now: dt.datetime | None = None) -> int:
    """Give ``sending`` deliveries whose worker died (lease expired) back to the queue."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_expires_at__lt=now).update(
        status=DeliveryStatus.PENDING, claim_token=None, lease_expires_at=None, next_attempt_at=now, updated_at=now
    )


def purge_old_records(*, days: int | None = None, batch_size: int = 1000, max_seconds: float = 60.0) -> dict:
    """Delete attempts and events (with their deliveries) older than the retention, in batches.

    Events with a delivery still pending or sending are kept until it finishes.
    """
    from events.models import Event

    days = days or settings.WEBHOOKS_RETENTION_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    deadline = time.monotonic() + max_seconds
    purged = {"attempts": 0, "events": 0}
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
    return purged
