"""Writing the dispatcher's results: delivery rows in a few grouped UPDATEs, attempts in bulk."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict

from django.db import DatabaseError, transaction
from django.db.models import F

from deliveries.engine.claims import finished_claim_columns
from deliveries.models import Attempt, Delivery, DeliveryStatus, Trigger

logger = logging.getLogger(__name__)


def save_results(
    rows: list[tuple[Delivery, str | None]], attempts: list[Attempt], tokens: list[uuid.UUID], now: dt.datetime
) -> int:
    """Write outcomes: one UPDATE per distinct outcome (all the 200s of a batch are one statement).

    Fenced by the claim tokens: a row whose lease expired and was claimed by another
    worker is not overwritten with this (late) result. ``trigger`` None: no attempt was made.
    Returns how many rows were taken back before their result could be saved.
    """
    updated = 0
    with transaction.atomic():
        for key, pks in _group_by_outcome(rows).items():
            updated += Delivery.objects.filter(
                pk__in=pks, claim_token__in=tokens, status=DeliveryStatus.SENDING
            ).update(**_row_values(key, now))
        if attempts:
            _save_attempts(attempts)
    lost = len(rows) - updated
    if lost > 0:
        logger.warning("%d deliveries were taken back before their result was saved", lost)
    return max(lost, 0)


def _group_by_outcome(rows: list[tuple[Delivery, str | None]]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for delivery, trigger in rows:
        key = (
            delivery.status,
            delivery.next_attempt_at,
            delivery.completed_at,
            delivery.last_error,
            delivery.last_response_status,
            delivery.failure_reason,
            trigger is not None,
            trigger == Trigger.AUTOMATIC,
        )
        groups[key].append(delivery.pk)
    return groups


def _row_values(key: tuple, now: dt.datetime) -> dict:
    status, next_at, completed, error, response_status, reason, attempted, automatic = key
    values = dict(
        status=status,
        next_attempt_at=next_at,
        completed_at=completed,
        last_error=error,
        last_response_status=response_status,
        failure_reason=reason,
        **finished_claim_columns(),
        updated_at=now,
    )
    if attempted:
        values["attempt_count"] = F("attempt_count") + 1
    if automatic:
        values["automatic_attempts"] = F("automatic_attempts") + 1
    return values


def _save_attempts(attempts: list[Attempt]) -> None:
    try:
        with transaction.atomic():
            Attempt.objects.bulk_create(attempts, batch_size=500, ignore_conflicts=True)
    except DatabaseError:
        # One unstorable record must not sink the batch: save them one by one,
        # and an attempt that still fails without what the remote end sent.
        logger.exception("Saving %d attempts at once failed; saving them one by one", len(attempts))
        for attempt in attempts:
            _save_attempt_alone(attempt)


def _save_attempt_alone(attempt: Attempt) -> None:
    try:
        with transaction.atomic():
            Attempt.objects.bulk_create([attempt], ignore_conflicts=True)
        return
    except DatabaseError:
        logger.exception(
            "Attempt %s of delivery %s could not be stored as received", attempt.number, attempt.delivery_id
        )
    attempt.response_headers, attempt.response_body = {}, ""
    attempt.error_detail = (attempt.error_detail + " (the response could not be stored)").strip()
    with transaction.atomic():
        Attempt.objects.bulk_create([attempt], ignore_conflicts=True)
