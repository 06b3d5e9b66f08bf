"""``postbacks.delivery.exhausted``: failed deliveries whose automatic retries are all spent.

The engine records outcomes and emits nothing (it sits below ``fanout``). This job looks at
each failure once, through a partial index on failures not yet looked at
(``Delivery.failure_reviewed_at``), and announces those that spent every automatic retry.
Failures of operational events are marked and never announced: no event about an event about ...
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deliveries.alerting.announce import OPERATIONAL_TYPES, announce, channel_summary
from deliveries.models import Delivery, DeliveryStatus
from events.catalogue.operations import DELIVERY_EXHAUSTED

REVIEW_BATCH = 200
# Failures older than this when first looked at (the job was down, or they predate it) are not announced.
LOOKBACK = dt.timedelta(hours=6)


def is_exhausted(delivery: Delivery) -> bool:
    return delivery.automatic_attempts > settings.WEBHOOKS_MAX_RETRIES


def announce_exhausted(*, now: dt.datetime | None = None, batch: int = REVIEW_BATCH) -> int:
    """Look at up to ``batch`` new failures; announce the exhausted ones. Returns how many were announced."""
    now = now or timezone.now()
    failures = list(
        Delivery.objects.filter(
            status=DeliveryStatus.FAILED, failure_reviewed_at__isnull=True, completed_at__gte=now - LOOKBACK
        )
        .select_related("channel")
        .order_by("completed_at")[:batch]
    )
    announced = 0
    for delivery in failures:
        with transaction.atomic():
            marked = Delivery.objects.filter(pk=delivery.pk, failure_reviewed_at__isnull=True).update(
                failure_reviewed_at=now
            )
            if (
                marked
                and is_exhausted(delivery)
                and not delivery.is_test
                and delivery.event_type_id not in OPERATIONAL_TYPES
            ):
                announce(
                    DELIVERY_EXHAUSTED,
                    about=f"exhausted:{delivery.pk}",
                    payload=_payload(delivery),
                    channel_id=delivery.channel_id,
                )
                announced += 1
    return announced


def _payload(delivery: Delivery) -> dict:
    return {
        "delivery": {
            "id": delivery.pk,
            "attempts": delivery.attempt_count,
            "failureReason": delivery.failure_reason,
            "failedAt": delivery.completed_at.isoformat() if delivery.completed_at else None,
        },
        "event": {"id": str(delivery.event_id), "type": delivery.event_type_id},
        "channel": channel_summary(delivery.channel),
    }
