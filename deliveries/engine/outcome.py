"""The rules of one attempt (SPEC section 4): what its outcome makes of the delivery, when it is retried, and why it failed.

Pure functions of their arguments and the settings; ``results`` writes what they decide.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings

from deliveries.engine.jobs import Outcome
from deliveries.models import DeliveryStatus, ErrorKind, Trigger

# Triggers whose failures are retried automatically (a resend starts a new round of retries).
RETRIED_TRIGGERS = (Trigger.AUTOMATIC, Trigger.RESEND)


def retry_delay(*, retry_number: int, retry_after_s: float | None = None) -> float:
    """Seconds before automatic retry ``retry_number`` (1-based).

    Full jitter around the configured delay: uniformly between half and one and a half
    times it, so the retries of many deliveries that failed together spread over a whole
    delay's width instead of arriving together. A ``Retry-After`` (capped at
    ``WEBHOOKS_RETRY_AFTER_CAP_S``) is a floor: the retry comes after it, spread over the
    next tenth of it (at least a second).
    """
    delays = settings.WEBHOOKS_RETRY_DELAYS
    base = float(delays[min(retry_number - 1, len(delays) - 1)])
    delay = random.uniform(0.5 * base, 1.5 * base)
    if retry_after_s is not None:
        floor = min(retry_after_s, settings.WEBHOOKS_RETRY_AFTER_CAP_S)
        if floor > delay:
            delay = floor + random.uniform(0, max(1.0, 0.1 * floor))
    return delay


@dataclass(frozen=True)
class Plan:
    """What one attempt's outcome makes of its delivery: the columns the recorder writes."""

    status: str
    next_attempt_at: dt.datetime | None
    completed_at: dt.datetime | None
    last_error: str
    last_response_status: int | None
    failure_reason: str
    lost: bool = False  # the sending process died: one more towards the poison cap


def plan_outcome(
    *, outcome: Outcome, trigger: str, automatic_attempts: int, now: dt.datetime, lost_before: int = 0
) -> Plan:
    """SPEC section 4's table. ``automatic_attempts`` counts this attempt when it was automatic.

    An isolated send whose process died (``worker_lost``) is taken back at once, like a lease
    that ran out, until it has been lost ``WEBHOOKS_MAX_LEASE_EXPIRIES`` times (``lost_before`` before this one).
    """
    common = {"last_error": outcome.error, "last_response_status": outcome.response_status}
    if outcome.error == ErrorKind.WORKER_LOST:
        cap = settings.WEBHOOKS_MAX_LEASE_EXPIRIES
        if lost_before + 1 < cap:
            return Plan(DeliveryStatus.PENDING, now, None, failure_reason=outcome.error_detail, lost=True, **common)
        reason = f"The process sending it was lost {cap} times; not sent again, in case this delivery is what kills it."
        return Plan(DeliveryStatus.FAILED, None, now, failure_reason=reason, lost=True, **common)

    if outcome.succeeded:
        return Plan(DeliveryStatus.SUCCEEDED, None, now, failure_reason="", **common)
    retries_made = max(0, automatic_attempts - 1)
    if trigger in RETRIED_TRIGGERS and outcome.retryable and retries_made < settings.WEBHOOKS_MAX_RETRIES:
        delay = retry_delay(retry_number=retries_made + 1, retry_after_s=outcome.retry_after_s)
        reason = f"{describe(outcome)}; retry {retries_made + 1} of {settings.WEBHOOKS_MAX_RETRIES} scheduled."
        return Plan(DeliveryStatus.PENDING, now + dt.timedelta(seconds=delay), None, failure_reason=reason, **common)
    reason = failure_reason(outcome, trigger=trigger, retries_made=retries_made)
    return Plan(DeliveryStatus.FAILED, None, now, failure_reason=reason, **common)


def describe(outcome: Outcome) -> str:
    if outcome.error == ErrorKind.HTTP_STATUS:
        return f"HTTP {outcome.response_status}"
    label = ErrorKind(outcome.error).label if outcome.error in ErrorKind.values else outcome.error
    return f"{label}: {outcome.error_detail}" if outcome.error_detail else str(label)


def failure_reason(outcome: Outcome, *, trigger: str, retries_made: int) -> str:
    text = describe(outcome)
    if trigger == Trigger.MANUAL:
        return f"{text} (manual retry; no automatic retries follow)."
    if outcome.error == ErrorKind.TIMEOUT:
        return f"{text} Timeouts are not retried automatically; a manual retry is possible where allowed."
    if outcome.retryable:
        return f"{text}, still failing after {retries_made} automatic retries."
    if trigger == Trigger.TEST:
        return text
    return f"{text}; not retried (only 408, 425, 429, 500, 502, 503, 504 and connection errors are)."
