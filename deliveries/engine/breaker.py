"""A circuit breaker per channel (SPEC section 5), shared by every worker through the database.

Closed: sends go out. After ``WEBHOOKS_BREAKER_FAILURES`` consecutive timeouts or
connection failures the breaker opens: the channel's deliveries wait, spending no
attempt, for a cool-off. Then one probe goes out (half-open): an answer (any HTTP
status) closes the breaker; another timeout or refusal opens it again for twice as long,
up to ``WEBHOOKS_BREAKER_MAX_COOLOFF_S``. An HTTP answer of any status resets the count:
the breaker is about endpoints that do not answer, retries handle those that say "later".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction

from common.reads import rows_by
from deliveries.models import BreakerState, ChannelBreaker

# Outcomes that say "nobody answered" (ErrorKind values).
UNANSWERED = frozenset({"timeout", "connection", "dns"})


def states(channel_ids: list[int]) -> dict[int, ChannelBreaker]:
    # ``rows_by``: read on every claim, where compiling the ORM query cost more than running it.
    return rows_by(ChannelBreaker, "channel", channel_ids)


def _probe_lost_after_s() -> float:
    """A probe older than this was lost (its worker died): another may go out."""
    return 2 * (settings.WEBHOOKS_TIMEOUT_S + settings.WEBHOOKS_LEASE_MARGIN_S)


def resting_sql(channel_column: str) -> tuple[str, Callable[[dt.datetime], list]]:
    """SQL true for a channel whose breaker lets nothing start now, and its parameters for ``now``.

    What ``admits`` answers 0 to whatever is in flight: open and cooling off, or half-open with
    its probe out. Read without a lock, to leave such channels out of a claim's candidates: a
    stale read only delays a channel by one claim; the claim still asks ``admits`` under the lock.
    """
    meta = ChannelBreaker._meta
    table = meta.db_table
    col = {name: meta.get_field(name).column for name in ("channel", "state", "open_until", "probe_started_at")}
    sql = (
        f"EXISTS (SELECT 1 FROM {table} b WHERE b.{col['channel']} = {channel_column} AND ("
        f"(b.{col['state']} = '{BreakerState.OPEN}' AND b.{col['open_until']} > %s)"
        f" OR (b.{col['state']} = '{BreakerState.HALF_OPEN}' AND b.{col['probe_started_at']} > %s)))"
    )

    def params(now: dt.datetime) -> list:
        return [now, now - dt.timedelta(seconds=_probe_lost_after_s())]

    return sql, params


def admits(row: ChannelBreaker | None, *, in_flight: int, now: dt.datetime) -> tuple[int | None, bool]:
    """How many sends the breaker lets start now (None: no limit of its own), and whether the one is a probe."""
    if row is None or row.state == BreakerState.CLOSED:
        return None, False
    if row.state == BreakerState.OPEN:
        if row.open_until and now < row.open_until:
            return 0, False
        return (1 if in_flight == 0 else 0), True
    # Half-open: a probe is out. Another only if that one was lost (its worker died).
    probe_age = (now - row.probe_started_at).total_seconds() if row.probe_started_at else None
    if probe_age is not None and probe_age > _probe_lost_after_s():
        return (1 if in_flight == 0 else 0), True
    return 0, False


def note_probes(channel_ids: list[int], *, now: dt.datetime) -> None:
    if channel_ids:
        ChannelBreaker.objects.filter(channel_id__in=channel_ids).update(
            state=BreakerState.HALF_OPEN, probe_started_at=now, updated_at=now
        )


def record(results: dict[int, list[str]], *, now: dt.datetime) -> None:
    """Apply the outcomes of one batch, per channel in the order they ended (``error`` values, '' for an answer)."""
    answered_only = [c for c, errors in results.items() if not any(e in UNANSWERED for e in errors)]
    kept = states(answered_only) if answered_only else {}
    for channel_id, errors in results.items():
        if channel_id in answered_only and channel_id not in kept:
            continue  # never failed: nothing to keep
        try:
            with transaction.atomic():
                _apply(channel_id, errors, now)
        except IntegrityError:
            pass  # the channel was deleted meanwhile


def _apply(channel_id: int, errors: list[str], now: dt.datetime) -> None:
    row, _ = ChannelBreaker.objects.select_for_update().get_or_create(channel_id=channel_id)
    for error in errors:
        if error in UNANSWERED:
            row.consecutive_failures += 1
            if row.state == BreakerState.HALF_OPEN:
                _open(row, now, cooloff=min(2 * row.cooloff_s, settings.WEBHOOKS_BREAKER_MAX_COOLOFF_S))
            elif row.state == BreakerState.CLOSED and row.consecutive_failures >= settings.WEBHOOKS_BREAKER_FAILURES:
                _open(row, now, cooloff=settings.WEBHOOKS_BREAKER_COOLOFF_S)
        else:
            row.consecutive_failures = 0
            if row.state != BreakerState.CLOSED:
                row.state = BreakerState.CLOSED
                row.closed_at = now
                row.open_until = None
                row.probe_started_at = None
                row.cooloff_s = settings.WEBHOOKS_BREAKER_COOLOFF_S
    row.updated_at = now
    row.save()


def _open(row: ChannelBreaker, now: dt.datetime, *, cooloff: float) -> None:
    row.state = BreakerState.OPEN
    row.opened_at = now
    row.cooloff_s = cooloff
    row.open_until = now + dt.timedelta(seconds=cooloff)
    row.probe_started_at = None
