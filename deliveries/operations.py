"""Reads for operations (SPEC section 11): readiness checks, the admin's at-a-glance numbers
and the figures ``/metrics`` exports.

Each function is one aggregate query over an index (or over a small table: heartbeats,
channels, breakers), so its cost does not grow with the deliveries table beyond an
index range: the due backlog, the last few minutes of attempts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Max, Min, Q, Sum, Value, When
from django.utils import timezone

from channels.models import Channel
from deliveries.models import Attempt, BreakerState, Delivery, DeliveryStatus, WorkerHeartbeat

# Upper bounds (seconds) of the attempt-duration histogram; the production timeout is 30 s.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)


@dataclass
class Heartbeats:
    workers_alive: int
    worker_age_s: float | None  # the youngest engine heartbeat; None: never seen
    sweeper_age_s: float | None
    in_flight: int


def heartbeats(*, now: dt.datetime | None = None) -> Heartbeats:
    """Engines and the sweeper, from their heartbeat rows (one query over a table of one row per worker process)."""
    now = now or timezone.now()
    alive_since = now - dt.timedelta(seconds=settings.WEBHOOKS_WORKER_MAX_AGE_S)
    engine = Q(kind=WorkerHeartbeat.Kind.ENGINE)
    row = WorkerHeartbeat.objects.aggregate(
        worker_seen=Max("seen_at", filter=engine),
        sweeper_seen=Max("seen_at", filter=Q(kind=WorkerHeartbeat.Kind.SWEEPER)),
        alive=Count("key", filter=engine & Q(seen_at__gte=alive_since)),
        in_flight=Sum("in_flight", filter=engine & Q(seen_at__gte=alive_since)),
    )
    return Heartbeats(
        workers_alive=row["alive"],
        worker_age_s=_age(row["worker_seen"], now),
        sweeper_age_s=_age(row["sweeper_seen"], now),
        in_flight=row["in_flight"] or 0,
    )


@dataclass
class Backlog:
    due: int
    oldest_due_age_s: float  # 0 when nothing is due


def due_backlog(*, now: dt.datetime | None = None) -> Backlog:
    """Pending deliveries whose time has come, and how long the oldest has waited.

    One query on the partial ``delivery_due_idx`` (next_attempt_at of pending/sending rows).
    """
    now = now or timezone.now()
    row = Delivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        next_attempt_at__lte=now,
    ).aggregate(
        due=Count("id", filter=Q(status=DeliveryStatus.PENDING)),
        oldest=Min("next_attempt_at", filter=Q(status=DeliveryStatus.PENDING)),
    )
    return Backlog(due=row["due"], oldest_due_age_s=_age(row["oldest"], now) or 0.0)


@dataclass
class ChannelStates:
    active: int
    cooling: int  # active, breaker open or probing
    inactive: int
    cooling_channels: list  # (id, name, state), a few, for the admin
    inactive_channels: list  # (id, name), a few


def channel_states(*, examples: int = 5) -> ChannelStates:
    """Channels by state: active, cooling off (breaker open or probing), inactive.

    One aggregate over the channels (left-joined to their breaker rows); the few examples
    of cooling and inactive channels cost one query each, only when there are some.
    """
    cooling_q = Q(active=True, breaker__state__in=[BreakerState.OPEN, BreakerState.HALF_OPEN])
    counts = Channel.objects.aggregate(
        total=Count("id"), inactive=Count("id", filter=Q(active=False)), cooling=Count("id", filter=cooling_q)
    )
    cooling_channels = inactive_channels = []
    if examples and counts["cooling"]:
        cooling_channels = list(
            Channel.objects.filter(cooling_q)
            .order_by("-breaker__opened_at")
            .values_list("id", "name", "breaker__state")[:examples]
        )
    if examples and counts["inactive"]:
        inactive_channels = list(
            Channel.objects.filter(active=False).order_by("-updated_at").values_list("id", "name")[:examples]
        )
    return ChannelStates(
        active=counts["total"] - counts["inactive"] - counts["cooling"],
        cooling=counts["cooling"],
        inactive=counts["inactive"],
        cooling_channels=cooling_channels,
        inactive_channels=inactive_channels,
    )


def deliveries_in_progress() -> dict[str, int]:
    """Pending and sending deliveries, all of them: one count on the partial ``delivery_due_idx``.

    Rows in progress are bounded by the traffic, not by the history kept.
    """
    rows = (
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {DeliveryStatus.PENDING: 0, DeliveryStatus.SENDING: 0, **dict(rows)}


def deliveries_by_status_since(*, since: dt.datetime) -> dict[str, int]:
    """Deliveries created since ``since`` by status: the ``delivery_created_idx`` range.

    Not the whole table: a GROUP BY over every delivery is a sequential scan (300 ms at a
    million rows on PostgreSQL, and growing with retention).
    """
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    rows = Delivery.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("id")).order_by()
    counts.update(dict(rows))
    return counts


@dataclass
class AttemptSeries:
    channel: str  # a channel id, or "other"
    channel_name: str
    outcome: str  # "success" or an ErrorKind value
    buckets: list  # cumulative counts, one per DURATION_BUCKETS bound
    count: int
    sum_s: float


def recent_attempts(*, window_s: float, max_channels: int, now: dt.datetime | None = None) -> list[AttemptSeries]:
    """Attempts finished in the last ``window_s`` seconds by channel and outcome, with duration buckets.

    One grouped query over the ``started_at`` index range. The ``max_channels`` channels with
    the most attempts keep their own series; the rest are summed into channel "other", so the
    number of series is bounded whatever the number of channels.
    """
    now = now or timezone.now()
    outcome = Case(
        When(error="", then=Value("success")),
        default=F("error"),
        output_field=CharField(),
    )
    aggregates = {f"le{i}": Count("id", filter=Q(duration_ms__lte=b * 1000)) for i, b in enumerate(DURATION_BUCKETS)}
    rows = (
        Attempt.objects.filter(started_at__gte=now - dt.timedelta(seconds=window_s), finished_at__isnull=False)
        .annotate(outcome=outcome)
        .values("delivery__channel_id", "outcome")
        .annotate(n=Count("id"), total_ms=Sum("duration_ms"), **aggregates)
        .order_by()
    )
    rows = list(rows)
    per_channel: dict[int, int] = {}
    for row in rows:
        per_channel[row["delivery__channel_id"]] = per_channel.get(row["delivery__channel_id"], 0) + row["n"]
    kept = set(sorted(per_channel, key=lambda c: (-per_channel[c], c))[:max_channels])
    names = dict(Channel.objects.filter(pk__in=kept).values_list("id", "name"))
    series: dict[tuple[str, str], AttemptSeries] = {}
    for row in rows:
        channel_id = row["delivery__channel_id"]
        label = str(channel_id) if channel_id in kept else "other"
        name = names.get(channel_id, "") if channel_id in kept else "other"
        key = (label, row["outcome"])
        s = series.setdefault(key, AttemptSeries(label, name, row["outcome"], [0] * len(DURATION_BUCKETS), 0, 0.0))
        s.count += row["n"]
        s.sum_s += (row["total_ms"] or 0) / 1000
        for i in range(len(DURATION_BUCKETS)):
            s.buckets[i] += row[f"le{i}"]
    return sorted(series.values(), key=lambda s: (s.channel, s.outcome))


def _age(seen: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if seen is None else max(0.0, (now - seen).total_seconds())
