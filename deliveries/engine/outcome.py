"""The rules of one attempt (SPEC section 4): what its outcome makes of the delivery, when it is retried, and why it failed."""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings

from deliveries.engine.claims import clear_claim, finished_claim_columns
from deliveries.engine.jobs import Outcome
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind, Trigger

# Retry-After is honoured up to this many seconds, so an endpoint cannot park a delivery for days.
RETRY_AFTER_CAP_S = 3600

# What ``record_outcome`` changes on a delivery (``update_fields`` for a single save).
DELIVERY_OUTCOME_FIELDS = [
    "status",
    "attempt_count",
    "automatic_attempts",
    "next_attempt_at",
    *finished_claim_columns(),
    "last_error",
    "last_response_status",
    "failure_reason",
    "completed_at",
    "updated_at",
]


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
    clear_claim(delivery, now=now)
    _apply_status(delivery, outcome, trigger=trigger, now=now)
    return attempt


def _apply_status(delivery: Delivery, outcome: Outcome, *, trigger: str, now: dt.datetime) -> None:
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


def refuse_without_attempt(*, delivery: Delivery, error: str, reason: str, now: dt.datetime) -> None:
    """Fail a claimed delivery that must not be sent (channel or subscription gone inactive...), in memory."""
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = error
    delivery.failure_reason = reason
    delivery.next_attempt_at = None
    delivery.completed_at = now
    clear_claim(delivery, now=now)


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
