"""Resend and recover (SPEC section 10): an event sent again to a channel; a channel's failures sent again.

Resend writes one new delivery (trigger ``resend``). Recover is a ``RecoverJob`` that a
django-q2 task works through in bounded batches (``run_recover``). A failed delivery is
resent by a recover at most once, by construction: each batch takes its rows with one
``UPDATE ... SET recovered_by = job WHERE recovered_by IS NULL AND status = 'failed'`` and
writes a replacement only for the rows that statement took; and the database allows one
queued or running job per channel. Refusals carry messages safe to show as they are.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from channels.kinds import ChannelKind
from channels.models import Channel, Subscription
from channels.services import update_channel
from common.audit import record as record_change
from common.permissions import Action
from deliveries.engine.kick import queue_dispatch_on_commit
from deliveries.engine.refusals import TEST_SEND_NOT_RETRIED
from deliveries.exceptions import NothingToResend, RecoverRefused
from deliveries.models import Delivery, DeliveryStatus, RecoverJob, Trigger
from events.models import Event, EventType

logger = logging.getLogger(__name__)

RESEND = Action(
    "resend",
    ("deliveries.view_delivery", "deliveries.resend"),
    "You do not have permission to resend events.",
)
RECOVER = Action(
    "recover",
    ("channels.view_channel", "deliveries.view_delivery", "deliveries.recover"),
    "You do not have permission to recover deliveries.",
)


def batch_size() -> int:
    """Rows per transaction of a recover job (``WEBHOOKS_RECOVER_BATCH``, default 500)."""
    return settings.WEBHOOKS_RECOVER_BATCH


def budget_s() -> float:
    """How long one run of the job works before it re-enqueues itself (well under the cluster's 90 s)."""
    return settings.WEBHOOKS_RECOVER_BUDGET_S


# --- Resend -------------------------------------------------------------------------


def resend_event(*, actor, event: Event, channel: Channel) -> Delivery:
    """Send ``event`` again to ``channel`` (one attached to its type, even after the event): a new delivery."""
    RESEND.require(actor)
    if Delivery.objects.filter(event=event, is_test=True).exists():
        raise ValidationError({"event": [TEST_SEND_NOT_RETRIED]})
    subscription = Subscription.objects.filter(event_type_id=event.type_id, channel=channel).first()
    if subscription is None:
        raise ValidationError({"channel": [f"This channel is not attached to the event type {event.type_id}."]})
    if event.type.postback_only and channel.kind != ChannelKind.POSTBACK:
        raise ValidationError({"channel": [f"The event type {event.type_id} may only be sent to postback channels."]})
    if not channel.active:
        raise ValidationError({"channel": ["This channel is inactive; activate it first."]})
    person = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        delivery = Delivery.objects.create(
            event=event,
            subscription=subscription,
            channel=channel,
            event_type_id=event.type_id,
            source=event.source,
            status=DeliveryStatus.PENDING,
            pending_trigger=Trigger.RESEND,
            requested_by=person,
            next_attempt_at=timezone.now(),
        )
        record_change(user=actor, obj=delivery, message=f"Resent event {event.pk} to channel {channel.name!r}.")
        queue_dispatch_on_commit()
    return delivery


# --- Recover: what it would resend ----------------------------------------------------


def _type_keys(event_types: Iterable[str]) -> list[str]:
    keys = sorted({str(key).strip() for key in event_types or () if str(key).strip()})
    known = set(EventType.objects.filter(pk__in=keys).values_list("pk", flat=True))
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValidationError({"event_types": [f"Unknown event types: {', '.join(unknown)}."]})
    return keys


def validate_window(*, since, until=None, event_types: Iterable[str] = ()) -> list[str]:
    """Check a recover's window and types (ValidationError keyed by field); return the type keys."""
    now = timezone.now()
    if since is None:
        raise ValidationError({"since": ["Say since when: a date and time."]})
    if timezone.is_naive(since) or (until is not None and timezone.is_naive(until)):
        raise ValidationError({"since": ["Give times with their time zone (for example 2026-12-01T10:00:00Z)."]})
    if since > now:
        raise ValidationError({"since": ["This time is in the future: nothing has failed since then yet."]})
    if until is not None and until <= since:
        raise ValidationError({"until": ["Until must be after since."]})
    return _type_keys(event_types)


def recoverable(*, channel: Channel, since: dt.datetime, until: dt.datetime | None = None, types=()):
    """The failed deliveries of ``channel`` created in [since, until) not yet resent by a recover."""
    rows = Delivery.objects.filter(
        channel=channel,
        status=DeliveryStatus.FAILED,
        recovered_by__isnull=True,
        subscription__isnull=False,
        created_at__gte=since,
        is_test=False,
    )
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    if types:
        rows = rows.filter(event_type_id__in=list(types))
    return rows


def count_recoverable(*, actor, channel: Channel, since, until=None, event_types: Iterable[str] = ()) -> int:
    """How many deliveries ``start_recover`` with these arguments would resend now (the preview)."""
    RECOVER.require(actor)
    types = validate_window(since=since, until=until, event_types=event_types)
    return recoverable(channel=channel, since=since, until=until, types=types).count()


def active_job(channel: Channel) -> RecoverJob | None:
    return RecoverJob.objects.filter(channel=channel, status__in=RecoverJob.ACTIVE).first()


# --- Recover: start -------------------------------------------------------------------


def start_recover(
    *, actor, channel: Channel, since, until=None, event_types: Iterable[str] = (), reenable: bool = False
) -> RecoverJob:
    """Queue a job resending what failed to ``channel`` in the window; it runs after this transaction commits.

    ``NothingToResend`` when the window holds nothing (no job is created), ``RecoverRefused``
    while another recover of this channel is queued or running, ``ValidationError`` keyed by
    field for a bad window, unknown types, or a disabled channel without ``reenable``.
    """
    RECOVER.require(actor)
    types = validate_window(since=since, until=until, event_types=event_types)
    if not channel.active and not reenable:
        raise ValidationError({"reenable": ["This channel is disabled: ask to re-enable it to recover."]})
    running = active_job(channel)
    if running is not None:
        raise RecoverRefused(f"A recover of this channel is already {running.status} (job {running.pk}).")
    rows = recoverable(channel=channel, since=since, until=until, types=types)
    found = rows.aggregate(total=Max("id"))["total"]
    if found is None:
        raise NothingToResend("Nothing to resend: no failed deliveries to this channel in that window.")
    person = actor if actor is not None and actor.is_authenticated else None
    try:
        with transaction.atomic():
            if not channel.active:
                update_channel(channel=channel, changes={"active": True}, user=actor)
            job = RecoverJob.objects.create(
                channel=channel,
                since=since,
                until=until,
                event_types=types,
                total=rows.count(),
                max_delivery_id=found,
                created_by=person,
            )
            record_change(user=actor, obj=channel, message=f"Started recover job {job.pk}: {job.total} to resend.")
            transaction.on_commit(lambda: enqueue(job.pk), robust=True)
    except IntegrityError as exc:  # another start won the race for this channel's one active job
        raise RecoverRefused("A recover of this channel is already queued or running.") from exc
    return job


def enqueue(job_id: int) -> None:
    """Hand the job to django-q2 (``deliveries.tasks.run_recover``)."""
    from django_q.tasks import async_task

    try:
        async_task("deliveries.tasks.run_recover", job_id, q_options={"task_name": f"recover-{job_id}"})
    except Exception:  # the broker is down: the sweeper resumes queued and stalled jobs
        logger.exception("Could not enqueue recover job %s; the sweeper will resume it", job_id)


# --- Recover: run ---------------------------------------------------------------------


def run_recover(*, job_id: int, size: int | None = None, budget: float | None = None) -> RecoverJob | None:
    """Work on a job for at most ``budget`` seconds, in batches of ``size``; re-enqueue it if not finished."""
    now = timezone.now()
    started = RecoverJob.objects.filter(pk=job_id, status__in=RecoverJob.ACTIVE).update(
        status=RecoverJob.Status.RUNNING, updated_at=now
    )
    if not started:
        return None
    RecoverJob.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    size = size or batch_size()
    deadline = time.monotonic() + (budget if budget is not None else budget_s())
    try:
        while time.monotonic() < deadline:
            if not _recover_batch(job_id=job_id, size=size):
                return _finish(job_id)
    except Exception as exc:
        logger.exception("Recover job %s failed", job_id)
        _finish(job_id, error=exc)
        raise
    enqueue(job_id)
    return RecoverJob.objects.get(pk=job_id)


def _recover_batch(*, job_id: int, size: int) -> int:
    """One transaction: take up to ``size`` rows past the cursor, resend those this job won; 0 when none left."""
    with transaction.atomic():
        job = RecoverJob.objects.select_for_update().get(pk=job_id)
        window = recoverable(channel=job.channel, since=job.since, until=job.until, types=job.event_types)
        ids = list(
            window.filter(pk__gt=job.last_delivery_id, pk__lte=job.max_delivery_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return 0
        # The fence: only rows still failed and not yet taken by any recover become this job's.
        taken = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED, recovered_by__isnull=True).update(
            recovered_by=job
        )
        now = timezone.now()
        Delivery.objects.bulk_create(
            Delivery(
                event_id=row["event_id"],
                subscription_id=row["subscription_id"],
                channel_id=row["channel_id"],
                event_type_id=row["event_type_id"],
                source=row["source"],
                status=DeliveryStatus.PENDING,
                pending_trigger=Trigger.RESEND,
                requested_by_id=job.created_by_id,
                next_attempt_at=now,
            )
            for row in Delivery.objects.filter(pk__in=ids, recovered_by=job).values(
                "event_id", "subscription_id", "channel_id", "event_type_id", "source"
            )
        )
        RecoverJob.objects.filter(pk=job_id).update(
            done=F("done") + len(ids),
            resent=F("resent") + taken,
            skipped=F("skipped") + (len(ids) - taken),
            last_delivery_id=ids[-1],
            updated_at=now,
        )
        if taken:
            queue_dispatch_on_commit()
    return len(ids)


def _finish(job_id: int, error: Exception | None = None) -> RecoverJob:
    job = RecoverJob.objects.get(pk=job_id)
    job.finished_at = timezone.now()
    if error is None:
        job.status = RecoverJob.Status.DONE
        job.total = max(job.total, job.done)
        job.done = job.total
        job.summary = f"Resent {job.resent} of {job.total} failed deliveries"
        job.summary += f"; {job.skipped} skipped (already resent or no longer failed)." if job.skipped else "."
    else:
        job.status = RecoverJob.Status.FAILED
        job.summary = f"Stopped after {job.done} of {job.total} ({job.resent} resent): internal error."
    job.save(update_fields=["status", "total", "done", "summary", "finished_at", "updated_at"])
    return job


def resume_stalled(*, older_than_s: float = 180.0) -> int:
    """The sweeper's part: enqueue again queued or running jobs nobody has advanced for a while."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_s)
    ids = list(
        RecoverJob.objects.filter(status__in=RecoverJob.ACTIVE, updated_at__lt=cutoff).values_list("pk", flat=True)
    )
    for job_id in ids:
        RecoverJob.objects.filter(pk=job_id).update(updated_at=timezone.now())
        enqueue(job_id)
    return len(ids)
