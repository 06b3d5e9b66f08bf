"""Writing outcomes: the attempt row completed, the delivery moved on, the breaker told.

Outcomes are written in batches (one transaction, one UPDATE per distinct delivery
outcome). If a batch cannot be written, each outcome is written alone, so one bad row
never rolls back another's (a row that still fails is written without what the remote
end sent). The delivery's UPDATE is fenced by the claim token: an outcome whose claim
was lost (its worker was frozen past the lease, and another took over) still completes
its own attempt row, but never overwrites the newer owner's status.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from deliveries.engine import breaker
from deliveries.engine.claims import COUNTED_AS_AUTOMATIC, Claimed, finished_claim_columns
from deliveries.engine.jobs import Outcome
from deliveries.engine.outcome import plan_outcome
from deliveries.models import Attempt, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

ATTEMPT_OUTCOME_FIELDS = [
    "finished_at",
    "duration_ms",
    "request_url",
    "request_headers",
    "response_status",
    "response_headers",
    "response_body",
    "error",
    "error_detail",
]


@dataclass(frozen=True)
class Finished:
    claimed: Claimed
    outcome: Outcome


def record(finished: list[Finished]) -> int:
    """Write a batch of outcomes; return how many had lost their claim by then."""
    if not finished:
        return 0
    now = timezone.now()
    try:
        with transaction.atomic():
            return _record(finished, now)
    except DatabaseError:
        logger.exception("Writing %d outcomes at once failed; writing them one by one", len(finished))
    lost = 0
    for item in finished:
        try:
            with transaction.atomic():
                lost += _record([item], now)
        except DatabaseError:
            logger.exception("The outcome of delivery %s could not be stored as received", item.claimed.delivery_id)
            lost += _record_bare(item, now)
    return lost


def _record(finished: list[Finished], now: dt.datetime) -> int:
    sent = [f for f in finished if not f.outcome.not_started]
    unsent = [f for f in finished if f.outcome.not_started]
    if sent:
        complete_attempts([attempt_of(f, now) for f in sent])
    lost = _apply_to_deliveries(sent, now) + give_back_unsent(unsent, now=now)
    by_channel: dict[int, list[str]] = defaultdict(list)
    for f in sent:
        by_channel[f.claimed.channel_id].append(f.outcome.error)
    breaker.record(by_channel, now=now)
    return lost


def complete_attempts(attempts: list[Attempt]) -> None:
    """Write the outcome columns of ``attempts``: one prepared UPDATE run for every row.

    Not ``bulk_update``: its CASE expression per row and column cost the engine's control
    thread more than the rest of recording together (py-spy, one channel at loopback speed).
    """
    fields = [Attempt._meta.get_field(name) for name in ATTEMPT_OUTCOME_FIELDS]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {connection.ops.quote_name(Attempt._meta.db_table)} SET {assignments} WHERE id = %s"
    rows = [[f.get_db_prep_save(getattr(a, f.attname), connection) for f in fields] + [a.pk] for a in attempts]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def attempt_of(item: Finished, now: dt.datetime) -> Attempt:
    o = item.outcome
    return Attempt(
        pk=item.claimed.attempt_id,
        finished_at=now,
        duration_ms=o.duration_ms,
        request_url=o.request_url[:2000],
        request_headers=o.request_headers,
        response_status=o.response_status,
        response_headers=o.response_headers,
        response_body=o.response_body,
        error=o.error,
        error_detail=o.error_detail,
    )


def _apply_to_deliveries(sent: list[Finished], now: dt.datetime) -> int:
    """One fenced UPDATE per distinct outcome (all the 200s of a batch are one statement)."""
    groups: dict[tuple, list[Finished]] = defaultdict(list)
    for f in sent:
        plan = plan_outcome(
            outcome=f.outcome,
            trigger=f.claimed.trigger,
            automatic_attempts=f.claimed.automatic_attempts,
            now=now,
            lost_before=f.claimed.lost_before,
        )
        groups[(plan, f.claimed.token)].append(f)
    lost = 0
    for (plan, token), items in groups.items():
        lost_process = {"lease_expiries": F("lease_expiries") + 1} if plan.lost else {}
        updated = Delivery.objects.filter(
            pk__in=[f.claimed.delivery_id for f in items], claim_token=token, status=DeliveryStatus.SENDING
        ).update(
            status=plan.status,
            next_attempt_at=plan.next_attempt_at,
            completed_at=plan.completed_at,
            last_error=plan.last_error,
            last_response_status=plan.last_response_status,
            failure_reason=plan.failure_reason,
            updated_at=now,
            **lost_process,
            **finished_claim_columns(),
        )
        lost += len(items) - updated
    if lost:
        logger.warning("%d outcomes came after their claim was taken over; recorded as attempts only", lost)
    return lost


def give_back_unsent(unsent: list[Finished], *, now: dt.datetime) -> int:
    """Claims that could not start: the attempt never happened, so it is uncounted and unlogged."""
    lost = 0
    for item in unsent:
        claimed = item.claimed
        Attempt.objects.filter(pk=claimed.attempt_id).delete()
        automatic = 1 if claimed.trigger in COUNTED_AS_AUTOMATIC else 0
        updated = Delivery.objects.filter(
            pk=claimed.delivery_id, claim_token=claimed.token, status=DeliveryStatus.SENDING
        ).update(
            status=DeliveryStatus.PENDING,
            attempt_count=F("attempt_count") - 1,
            automatic_attempts=F("automatic_attempts") - automatic,
            next_attempt_at=now,
            updated_at=now,
            claim_token=None,
            lease_expires_at=None,
        )
        lost += 1 - updated
    return lost


def _record_bare(item: Finished, now: dt.datetime) -> int:
    """Last resort for an outcome that cannot be stored: the attempt without what the remote end sent."""
    o = item.outcome
    o.response_headers, o.response_body = {}, ""
    o.error_detail = (o.error_detail[:500] + " (the response could not be stored)").strip()
    try:
        with transaction.atomic():
            return _record([item], now)
    except DatabaseError:
        logger.exception(
            "Delivery %s: outcome lost; its lease will expire and it will be sent again", item.claimed.delivery_id
        )
        return 0
