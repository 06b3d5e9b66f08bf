"""Reads about deliveries for the staff pages: the dashboard, the channel pages, the orders.

Every function runs one query (or a fixed few), bounded by an indexed time range, a
LIMIT or one page of rows, so none of them grows with the size of the delivery table.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, IntegerField, Max, Prefetch, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from deliveries.engine.jobs import build_job
from deliveries.engine.send import request_body
from deliveries.explain import attempt_reason
from deliveries.models import Attempt, Delivery, DeliveryStatus, Trigger
from events.models import Event, EventType

RECENT = timedelta(hours=24)


@dataclass
class HourOutcome:
    hour: datetime
    succeeded: int = 0
    failed: int = 0
    in_progress: int = 0

    @property
    def total(self) -> int:
        return self.succeeded + self.failed + self.in_progress


def hourly_outcomes(*, now: datetime | None = None, hours: int = 24) -> list[HourOutcome]:
    """Deliveries created in each of the last ``hours`` hours, by outcome (oldest hour first)."""
    now = now or timezone.now()
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    first_hour = current_hour - timedelta(hours=hours - 1)
    buckets = {first_hour + timedelta(hours=i): HourOutcome(first_hour + timedelta(hours=i)) for i in range(hours)}
    rows = (
        Delivery.objects.filter(created_at__gte=first_hour)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        bucket = buckets.get(row["hour"])
        if bucket is None:  # clock skew: a row from the future
            continue
        if row["status"] == DeliveryStatus.SUCCEEDED:
            bucket.succeeded += row["n"]
        elif row["status"] == DeliveryStatus.FAILED:
            bucket.failed += row["n"]
        else:
            bucket.in_progress += row["n"]
    return list(buckets.values())


@dataclass
class ChannelHealth:
    channel_id: int
    succeeded: int = 0
    failed: int = 0
    in_progress: int = 0
    last_failure_at: datetime | None = None

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_rate(self) -> float | None:
        """Share of finished deliveries that succeeded, or None when none finished."""
        return self.succeeded / self.finished if self.finished else None


def channel_health(*, channel_ids=None, since: datetime | None = None) -> dict[int, ChannelHealth]:
    """Per channel, deliveries created since ``since`` (default: the last 24 h) by outcome.

    One grouped query over the indexed ``created_at`` range.
    """
    since = since or timezone.now() - RECENT
    # Test sends say nothing about the shop's traffic: they stay out of the success rates.
    queryset = Delivery.objects.filter(created_at__gte=since, is_test=False)
    if channel_ids is not None:
        queryset = queryset.filter(channel_id__in=list(channel_ids))
    rows = (
        queryset.values("channel_id")
        .annotate(
            succeeded=Count("id", filter=Q(status=DeliveryStatus.SUCCEEDED)),
            failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
            in_progress=Count("id", filter=Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])),
            last_failure_at=Max("updated_at", filter=Q(status=DeliveryStatus.FAILED)),
        )
        .order_by()
    )
    return {row["channel_id"]: ChannelHealth(**row) for row in rows}


def failed_awaiting_human(*, limit: int = 10):
    """The newest failed deliveries a person can retry (their type allows a manual retry)."""
    # The keys as literals, not a join: PostgreSQL then walks the (status, -id) index newest first
    # instead of the primary key over every delivery.
    keys = list(EventType.objects.filter(manual_retry=True).values_list("key", flat=True))
    return (
        Delivery.objects.filter(status=DeliveryStatus.FAILED, event_type_id__in=keys, is_test=False)
        .select_related("channel", "event_type", "event")
        .defer("event__payload")
        .order_by("-id")[:limit]
    )


def last_failure_of(*, channel) -> Delivery | None:
    """The latest failed delivery to ``channel`` that was not a test send (those stay out of its health)."""
    return (
        Delivery.objects.filter(channel=channel, status=DeliveryStatus.FAILED, is_test=False)
        .select_related("event_type")
        .order_by("-id")
        .first()
    )


def recent_tests_of(*, channel, limit: int = 5):
    """The latest test sends to ``channel``, newest first (their attempts carry the outcome).

    Found through the partial (channel, -id) index of test sends: they are few.
    """
    delivery_ids = list(
        Delivery.objects.filter(is_test=True, channel=channel).order_by("-id").values_list("id", flat=True)[:limit]
    )
    return Attempt.objects.filter(delivery_id__in=delivery_ids).select_related("triggered_by").order_by("-id")


# --- Orders (the Orders view of the admin) ---------------------------------------------


@dataclass
class TimelineEntry:
    event: Event
    deliveries: list


def order_timeline(*, order_ref: str, limit: int = 500) -> list[TimelineEntry]:
    """An order's events, oldest first, each with its deliveries and their attempts.

    Three queries (events, deliveries with channel and type, attempts). ``limit``
    bounds a pathological order with thousands of events.
    """
    attempts = Prefetch("attempts", queryset=Attempt.objects.select_related("triggered_by").order_by("number"))
    deliveries = Prefetch(
        "deliveries",
        queryset=Delivery.objects.select_related("channel", "event_type", "requested_by")
        .prefetch_related(attempts)
        .order_by("id"),
    )
    events = (
        Event.objects.filter(order_ref=order_ref)
        .select_related("type", "triggered_by")
        .prefetch_related(deliveries)
        .order_by("-created_at")[:limit]
    )
    # Newest first from the index, shown oldest first: a timeline reads downwards.
    events = sorted(events, key=lambda e: (e.created_at, str(e.id)))
    return [TimelineEntry(event=e, deliveries=list(e.deliveries.all())) for e in events]


def failed_deliveries_of_order(*, order_ref: str):
    """Failed deliveries of an order whose type allows a manual retry (for "Retry all failed")."""
    return (
        Delivery.objects.filter(
            event__order_ref=order_ref, status="failed", event_type__manual_retry=True, is_test=False
        )
        .select_related("event_type", "channel")
        .order_by("id")
    )


@dataclass
class OrderSummary:
    events: int = 0
    deliveries: int = 0
    failed: int = 0


def order_summaries(*, refs) -> dict[str, OrderSummary]:
    """Events, deliveries and failed deliveries per order, for one page of orders (two grouped queries)."""
    refs = [r for r in refs if r]
    summaries = {ref: OrderSummary() for ref in refs}
    if not refs:
        return summaries
    for ref, n in Event.objects.filter(order_ref__in=refs).values_list("order_ref").annotate(n=Count("id")).order_by():
        summaries[ref].events = n
    rows = (
        Delivery.objects.filter(event__order_ref__in=refs)
        .values("event__order_ref")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(status="failed")))
        .order_by()
    )
    for row in rows:
        summary = summaries[row["event__order_ref"]]
        summary.deliveries, summary.failed = row["total"], row["failed"]
    return summaries


def attempt_request_body(attempt: Attempt) -> str:
    """The body ``attempt`` sent, rebuilt from its delivery's event: the log stores the payload once, in the
    event, not once per attempt (load ``delivery__event__triggered_by``, ``delivery__channel`` and
    ``delivery__event_type`` with the attempt)."""
    job = build_job(delivery=attempt.delivery, trigger=attempt.trigger, retry_count=attempt.number - 1)
    return request_body(job)


@dataclass
class AttemptView:
    """One attempt as the delivery page shows it: its reason in words, headers and bodies made readable."""

    attempt: Attempt
    reason: str
    request_headers: str
    request_body: str
    response_headers: str
    response_body: str
    response_kind: str  # json, html or text: HTML is shown as escaped text, never rendered


def delivery_page_attempts(*, delivery: Delivery) -> list[AttemptView]:
    """``delivery``'s attempts, oldest first, for its page (one query: the delivery comes loaded with its
    event and the event's user, channel and event type)."""
    attempts = list(Attempt.objects.filter(delivery=delivery).select_related("triggered_by").order_by("number"))
    views = []
    for attempt in attempts:
        attempt.delivery = delivery
        body, kind = readable_body(attempt.response_body, headers=attempt.response_headers)
        views.append(
            AttemptView(
                attempt=attempt,
                reason=attempt_reason(attempt, timeout_s=delivery.channel.timeout),
                request_headers=readable_headers(attempt.request_headers),
                request_body=readable_body(attempt_request_body(attempt))[0] if delivery.channel.is_postback else "",
                response_headers=readable_headers(attempt.response_headers),
                response_body=body,
                response_kind=kind,
            )
        )
    return views


def readable_headers(headers) -> str:
    """``Name: value`` lines, as on the wire."""
    if not isinstance(headers, dict):
        return str(headers or "")
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def readable_body(text: str, *, headers=None) -> tuple[str, str]:
    """A body pretty-printed when it is JSON, with what it is (``json``, ``html`` or ``text``)."""
    content_type = ""
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            content_type = str(value).lower()
    stripped = (text or "").strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False), "json"
        except ValueError:
            pass
    if "html" in content_type or stripped[:1] == "<":
        return text, "html"
    return text, "text"


# --- One channel's page ------------------------------------------------------------


@dataclass
class ActivityBucket:
    start: datetime
    succeeded: int = 0
    failed: int = 0
    attempts: int = 0
    total_ms: int = 0

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.finished if self.finished else None

    @property
    def latency_ms(self) -> float | None:
        return self.total_ms / self.attempts if self.attempts else None


def channel_activity(
    *, channel, hours: int, bucket_hours: int = 1, now: datetime | None = None
) -> list[ActivityBucket]:
    """``channel``'s deliveries by outcome and its attempts' mean duration, in buckets of ``bucket_hours``
    over the last ``hours`` hours, oldest first; test sends left out.

    Two grouped queries, each over an indexed range of this channel's rows only (deliveries by
    ``(channel, created_at)``, attempts through those deliveries), so the page costs the same
    however many rows other channels have.
    """
    now = now or timezone.now()
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    first = current_hour - timedelta(hours=hours - bucket_hours)
    count = hours // bucket_hours
    buckets = [ActivityBucket(first + timedelta(hours=i * bucket_hours)) for i in range(count)]

    def bucket_of(hour):
        index = int((hour - first).total_seconds() // (3600 * bucket_hours))
        return buckets[index] if 0 <= index < count else None

    deliveries = (
        Delivery.objects.filter(
            channel=channel, created_at__gte=first, status__in=["succeeded", "failed"], is_test=False
        )
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in deliveries:
        bucket = bucket_of(row["hour"])
        if bucket is not None:
            if row["status"] == DeliveryStatus.SUCCEEDED:
                bucket.succeeded += row["n"]
            else:
                bucket.failed += row["n"]
    attempts = (
        Attempt.objects.filter(
            delivery__channel=channel, delivery__created_at__gte=first - RECENT, started_at__gte=first
        )
        .exclude(delivery__is_test=True)
        .exclude(finished_at__isnull=True)
        .annotate(hour=TruncHour("started_at"))
        .values("hour")
        .annotate(n=Count("id"), total=Sum("duration_ms"))
        .order_by()
    )
    for row in attempts:
        bucket = bucket_of(row["hour"])
        if bucket is not None:
            bucket.attempts += row["n"]
            bucket.total_ms += row["total"] or 0
    return buckets


def recent_attempts_of(*, channel, limit: int = 10) -> list[Attempt]:
    """``channel``'s latest attempts, newest first, each with its delivery and event type: the latest
    deliveries from the ``(channel, -id)`` index, then their attempts (two queries).

    Test sends are left out (``recent_tests_of`` lists them): they are few, so skipping them while
    walking the index costs nothing."""
    deliveries = {
        d.pk: d
        for d in Delivery.objects.filter(channel=channel, is_test=False)
        .select_related("event_type")
        .order_by("-id")[:limit]
    }
    attempts = list(Attempt.objects.filter(delivery_id__in=list(deliveries)).order_by("-started_at", "-id")[:limit])
    for attempt in attempts:
        attempt.delivery = deliveries[attempt.delivery_id]
        attempt.reason = attempt_reason(attempt, timeout_s=channel.timeout)
    return attempts


# --- Attempts, for the API (v1.1): lists and per-channel statistics ----------------------

# An attempt that succeeded: answered 2xx, or (e-mail, Slack) handed over without an error.
ATTEMPT_SUCCEEDED = Q(finished_at__isnull=False, error="") & (
    Q(response_status__isnull=True) | Q(response_status__gte=200, response_status__lt=300)
)
STATS_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


def attempts_of(*, delivery_id: int | None = None, channel_id: int | None = None):
    """Attempts of one delivery or of every delivery to one channel, with what their list shows."""
    queryset = Attempt.objects.select_related("delivery", "triggered_by").only(
        *(f.name for f in Attempt._meta.concrete_fields if f.name != "delivery"),
        "delivery__id",
        "delivery__event_id",
        "delivery__channel_id",
        "triggered_by__username",
    )
    if delivery_id is not None:
        queryset = queryset.filter(delivery_id=delivery_id)
    if channel_id is not None:
        queryset = queryset.filter(delivery__channel_id=channel_id)
    return queryset


@dataclass
class ChannelStats:
    window: str
    since: datetime
    until: datetime
    attempts: int
    succeeded: int
    failed: int
    in_flight: int
    p50_duration_ms: int | None
    p95_duration_ms: int | None
    last_success_at: datetime | None
    last_failure_at: datetime | None

    @property
    def success_rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return round(self.succeeded / finished, 4) if finished else None


class PercentileDisc(Aggregate):
    """PostgreSQL's ``percentile_disc(share) WITHIN GROUP (ORDER BY expression)``: the nearest-rank percentile."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = IntegerField()

    def __init__(self, expression, *, share: float, **extra):
        super().__init__(expression, share=float(share), **extra)


def channel_stats(*, channel_id: int, window: str, now: datetime | None = None) -> ChannelStats:
    """What the attempts to a channel in the last ``window`` (``STATS_WINDOWS``) came to; test sends left out.

    One pass over the (``started_at``-indexed) range of the attempts on PostgreSQL, the percentiles
    included (``percentile_disc``); on SQLite, which has no percentile function, each percentile is
    one more query taking the row at its rank in duration order. Both give the nearest rank.
    """
    now = now or timezone.now()
    since = now - STATS_WINDOWS[window]
    attempts = Attempt.objects.filter(delivery__channel_id=channel_id, started_at__gte=since, started_at__lte=now)
    attempts = attempts.exclude(trigger=Trigger.TEST)
    failed = Q(finished_at__isnull=False) & ~ATTEMPT_SUCCEEDED
    finished = Q(finished_at__isnull=False)
    aggregates = {
        "attempts": Count("id"),
        "succeeded": Count("id", filter=ATTEMPT_SUCCEEDED),
        "failed": Count("id", filter=failed),
        "last_success_at": Max("started_at", filter=ATTEMPT_SUCCEEDED),
        "last_failure_at": Max("started_at", filter=failed),
    }
    in_database = connection.vendor == "postgresql"
    if in_database:
        aggregates["p50"] = PercentileDisc("duration_ms", share=0.5, filter=finished)
        aggregates["p95"] = PercentileDisc("duration_ms", share=0.95, filter=finished)
    totals = attempts.aggregate(**aggregates)
    n = totals["succeeded"] + totals["failed"]

    def percentile(share: float) -> int | None:
        if not n:
            return None
        # Nearest rank: the smallest duration at least ``share`` of the finished attempts do not exceed.
        rank = max(1, math.ceil(share * n))
        return attempts.filter(finished).order_by("duration_ms").values_list("duration_ms", flat=True)[rank - 1]

    return ChannelStats(
        window=window,
        since=since,
        until=now,
        attempts=totals["attempts"],
        succeeded=totals["succeeded"],
        failed=totals["failed"],
        in_flight=totals["attempts"] - n,
        p50_duration_ms=totals["p50"] if in_database else percentile(0.5),
        p95_duration_ms=totals["p95"] if in_database else percentile(0.95),
        last_success_at=totals["last_success_at"] or _last_success_before(channel_id=channel_id, before=since),
        last_failure_at=totals["last_failure_at"] or _last_failure_before(channel_id=channel_id, before=since),
    )


def _last_success_before(*, channel_id: int, before: datetime) -> datetime | None:
    """The start of the latest successful attempt to the channel before ``before``, test sends left out.

    "When did this endpoint last work": a channel dead for 8 days has none in ``7d``. Two index reads:
    the channel's latest succeeded delivery (``delivery_channel_success_idx``, which auto-disable reads
    too), then its successful attempt.
    """
    delivery_id = (
        Delivery.objects.filter(channel_id=channel_id, status=DeliveryStatus.SUCCEEDED, completed_at__lt=before)
        .exclude(pending_trigger=Trigger.TEST)
        .order_by("-completed_at")
        .values_list("id", flat=True)
        .first()
    )
    if delivery_id is None:
        return None
    return (
        Attempt.objects.filter(ATTEMPT_SUCCEEDED, delivery_id=delivery_id, started_at__lt=before)
        .exclude(trigger=Trigger.TEST)
        .aggregate(at=Max("started_at"))["at"]
    )


def _last_failure_before(*, channel_id: int, before: datetime) -> datetime | None:
    """The start of the latest failed attempt to the channel before ``before``, test sends left out.

    Only asked when the window had none (a healthy channel): a read of the channel's older attempts,
    newest first, bounded by retention (``WEBHOOKS_RETENTION_DAYS``); no index covers failures by channel.
    """
    # ORDER BY ... LIMIT 1, not MAX(): the planner can walk attempt_started_idx backwards and stop at the first.
    return (
        Attempt.objects.filter(delivery__channel_id=channel_id, finished_at__isnull=False, started_at__lt=before)
        .exclude(ATTEMPT_SUCCEEDED)
        .exclude(trigger=Trigger.TEST)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
