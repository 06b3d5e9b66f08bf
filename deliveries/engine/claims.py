"""A delivery's claim: taking due rows, giving them back, taking back the leases of dead workers.

A claim sets ``status = sending``, a ``claim_token`` and a ``lease_expires_at``; the worker
holding the token owns the row until the lease expires. Every way a claim ends clears
the same columns, listed once here: given back unsent (``give_back``: the row is pending
again, any manual request it carries still waiting), or finished by an attempt or a
refusal (``finished_claim_columns``: the request it carried is consumed too).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from django.db import connection
from django.utils import timezone

from deliveries.models import Delivery, DeliveryStatus, Trigger

# The columns a claim sets besides the status, cleared.
_UNCLAIMED = {"claim_token": None, "lease_expires_at": None}


def finished_claim_columns() -> dict:
    """Column values of a delivery whose claimed attempt is over (sent or refused): no claim, no request."""
    return {**_UNCLAIMED, "pending_trigger": Trigger.AUTOMATIC, "requested_by": None}


def clear_claim(delivery: Delivery, *, now: dt.datetime) -> None:
    """``finished_claim_columns`` applied to ``delivery`` in memory (saved by the caller)."""
    for column, value in finished_claim_columns().items():
        setattr(delivery, column, value)
    delivery.updated_at = now


def give_back(deliveries, *, now: dt.datetime, due_now: bool) -> int:
    """Return claimed rows to ``pending`` unsent; ``due_now`` also makes them due at once."""
    values = {"status": DeliveryStatus.PENDING, **_UNCLAIMED, "updated_at": now}
    if due_now:
        values["next_attempt_at"] = now
    return deliveries.update(**values)


def requeue_expired_leases(*, now: dt.datetime | None = None) -> int:
    """Give ``sending`` deliveries whose worker died (lease expired) back to the queue."""
    now = now or timezone.now()
    return give_back(
        Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_expires_at__lt=now), now=now, due_now=True
    )


def due_candidates(*, now: dt.datetime, skip_channels: list[int], limit: int) -> list[tuple[int, int]]:
    """``(id, channel_id)`` of due pending rows, oldest due first, leaving out ``skip_channels``."""
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    if skip_channels:
        due = due.exclude(channel_id__in=skip_channels)
    return list(due.order_by("next_attempt_at").values_list("pk", "channel_id")[:limit])


def pick(
    candidates: list[tuple[int, int]], limit: int, *, claimed_by_channel: Counter, per_channel_cap: int
) -> list[int]:
    """Ids from ``candidates`` in order, leaving a channel out once it would hold ``per_channel_cap`` claims."""
    room = Counter()
    picked = []
    for pk, channel_id in candidates:
        if claimed_by_channel[channel_id] + room[channel_id] >= per_channel_cap:
            continue
        room[channel_id] += 1
        picked.append(pk)
        if len(picked) >= limit:
            break
    return picked


def mark_claimed(picked: list[int], *, token: uuid.UUID, now: dt.datetime, lease: dt.timedelta) -> int:
    """SQLite: claim ``picked`` with one conditional UPDATE (rows another worker took first are skipped)."""
    return Delivery.objects.filter(pk__in=picked, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        status=DeliveryStatus.SENDING, claim_token=token, lease_expires_at=now + lease, updated_at=now
    )


def claim_in_one_statement(
    *, limit: int, skip_channels: list[int], token: uuid.UUID, now: dt.datetime, lease: dt.timedelta
) -> list[tuple[int, int, dt.datetime]]:
    """PostgreSQL: claim with UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING.

    One statement, one round trip: rows another worker is claiming right now are skipped.
    Returns ``(id, channel_id, next_attempt_at)`` of the claimed rows, oldest due first.
    """
    meta = Delivery._meta
    names = ("status", "claim_token", "lease_expires_at", "updated_at", "next_attempt_at", "channel")
    col = {name: meta.get_field(name).column for name in names}
    skip_full = f"AND NOT ({col['channel']} = ANY(%s)) " if skip_channels else ""
    sql = (
        f"UPDATE {meta.db_table} SET {col['status']} = %s, {col['claim_token']} = %s, "
        f"{col['lease_expires_at']} = %s, {col['updated_at']} = %s "
        f"WHERE {meta.pk.column} IN (SELECT {meta.pk.column} FROM {meta.db_table} "
        f"WHERE {col['status']} = %s AND {col['next_attempt_at']} <= %s {skip_full}"
        f"ORDER BY {col['next_attempt_at']} LIMIT %s FOR UPDATE SKIP LOCKED) "
        f"RETURNING {meta.pk.column}, {col['channel']}, {col['next_attempt_at']}"
    )
    params = [DeliveryStatus.SENDING, token, now + lease, now, DeliveryStatus.PENDING, now]
    if skip_channels:
        params.append(list(skip_channels))
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort(key=lambda row: (row[2], row[0]))  # RETURNING has no order: the oldest due keep their place
    return rows


def load_claimed(token: uuid.UUID) -> list[Delivery]:
    """The rows claimed with ``token``, with what building their jobs reads."""
    return list(
        Delivery.objects.filter(claim_token=token, status=DeliveryStatus.SENDING).select_related(
            "event", "event__triggered_by", "event_type", "channel", "subscription"
        )
    )
