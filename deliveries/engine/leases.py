"""Leases that ran out: the worker holding them crashed, or was frozen past them (SPEC section 5).

Their deliveries go back to ``pending`` at once; the attempt each had in flight is closed
as ``worker_lost`` (the endpoint may or may not have received it). A delivery whose lease
ran out ``WEBHOOKS_MAX_LEASE_EXPIRIES`` times ends ``failed`` (``worker_lost``): a payload
that kills its worker must not be sent forever. Expiry is judged on the database's clock,
the one that set the lease, so the clocks of the machines never matter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from deliveries.engine.claims import finished_claim_columns
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind

LOST_DETAIL = (
    "The worker sending this attempt stopped (it crashed or was frozen) before recording an answer; "
    "the endpoint may have received it."
)


def requeue_expired_leases(*, limit: int = 1000) -> dict:
    """Give deliveries whose lease ran out back to the queue (or fail them at the cap). Returns counts.

    The expired rows are locked first (PostgreSQL; SQLite's write lock does the same), so
    nobody claims or requeues them meanwhile and the writes below see them as they were read.
    """
    cap = settings.WEBHOOKS_MAX_LEASE_EXPIRIES
    now = timezone.now()
    with transaction.atomic():
        expired = list(
            Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_expires_at__lt=Now())
            .select_for_update(skip_locked=True)
            .values_list("pk", "lease_expiries")[:limit]
        )
        if not expired:
            return {"requeued": 0, "failed": 0}
        Attempt.objects.filter(delivery_id__in=[pk for pk, _ in expired], finished_at__isnull=True).update(
            finished_at=now, error=ErrorKind.WORKER_LOST, error_detail=LOST_DETAIL
        )
        requeued = Delivery.objects.filter(pk__in=[pk for pk, n in expired if n + 1 < cap]).update(
            status=DeliveryStatus.PENDING,
            lease_expiries=F("lease_expiries") + 1,
            next_attempt_at=now,
            updated_at=now,
            claim_token=None,
            lease_expires_at=None,
        )
        failed = Delivery.objects.filter(pk__in=[pk for pk, n in expired if n + 1 >= cap]).update(
            status=DeliveryStatus.FAILED,
            lease_expiries=F("lease_expiries") + 1,
            last_error=ErrorKind.WORKER_LOST,
            failure_reason=(
                f"The worker sending it stopped {cap} times (crashed or frozen); not sent again, "
                "in case this delivery is what stops it."
            ),
            next_attempt_at=None,
            completed_at=now,
            updated_at=now,
            **finished_claim_columns(),
        )
    return {"requeued": requeued, "failed": failed}
