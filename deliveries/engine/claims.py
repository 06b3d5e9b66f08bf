"""Claiming due deliveries: only what a thread can start now, fairly, within each channel's cap.

One claim is one short transaction:

1. find channels with due pending rows, in round-robin order after the last channel this
   engine served (a skip scan over an index: cheap with any backlog);
2. lock those channels' rows (PostgreSQL: ``FOR NO KEY UPDATE SKIP LOCKED``; SQLite: the
   transaction already holds the database's one write lock), so no other worker on any
   machine claims for them until this transaction ends;
3. only then count what each has in flight (``sending`` rows: a fresh snapshot, taken
   after the lock, sees every claim committed before it), and share the free threads out
   one per channel per round, never above a channel's cap nor past an open breaker;
4. flip the chosen rows to ``sending`` with a token and a lease on the database's clock,
   counting the attempt, and insert the attempt rows, so every request that goes out
   afterwards is already in the log.

The lease covers the start grace, the whole attempt and a margin; the sender starts a
request only while the remaining lease still covers the whole timeout plus that margin.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.db.models.functions import Now
from django.db.models.sql import Query
from django.utils import timezone

from channels.models import Channel
from common.masking import mask_query_strings
from common.reads import rows_by
from deliveries.engine import breaker
from deliveries.engine.jobs import Job, build_job
from deliveries.engine.refusals import refusal_before_send
from deliveries.models import Attempt, Delivery, DeliveryStatus, Trigger


@dataclass(frozen=True)
class Claimed:
    """One claimed delivery, ready to send: its job and what proves the claim."""

    job: Job
    delivery_id: int
    channel_id: int
    attempt_id: int
    token: uuid.UUID
    trigger: str
    automatic_attempts: int  # counting this attempt if it is automatic
    claimed_at: float  # time.monotonic() taken before the claim transaction began
    lease_s: float
    # Times a process sending it was lost; a suspect is sent in a process of its own (``isolation``).
    lost_before: int = 0

    @property
    def suspect(self) -> bool:
        return self.lost_before >= suspect_after()

    def seconds_left(self) -> float:
        return self.claimed_at + self.lease_s - time.monotonic()


# Attempts that spend the delivery's automatic attempts (a resend starts a new round of them).
COUNTED_AS_AUTOMATIC = (Trigger.AUTOMATIC, Trigger.RESEND)


def lease_seconds(timeout_s: float) -> float:
    """Start grace + the whole attempt + a margin: what a claim must be certain to outlast."""
    return settings.WEBHOOKS_START_GRACE_S + timeout_s + settings.WEBHOOKS_LEASE_MARGIN_S


def suspect_after() -> int:
    """Lost processes after which a delivery is a suspect: its last send before the poison cap is isolated.

    Not the first loss: a crash (deploy, OOM kill) loses every send in flight, and sending all of
    those one process each would slow recovery for nothing. A delivery lost twice is sent on its
    own, so a poison one can take its neighbours down at most twice and the verdict of the cap
    falls on it alone.
    """
    return max(1, settings.WEBHOOKS_MAX_LEASE_EXPIRIES - 1)


def channel_cap(max_in_flight: int | None) -> int:
    return max_in_flight or settings.WEBHOOKS_CHANNEL_MAX_IN_FLIGHT


class Claimer:
    """Claims for one engine; remembers where its round-robin over channels stands."""

    def __init__(self):
        self.cursor = 0  # the last channel served; the next claim starts after it
        self._timeouts: dict[int, int] = {}  # of the channels locked by the claim in progress

    def claim(
        self,
        *,
        slots: int,
        finished_unrecorded: Counter | None = None,
        local_busy: Counter | None = None,
        local_limit: int | None = None,
        suspects: int = 0,
        held: Counter | None = None,
        hold_depth: dict[int, int] | None = None,
    ) -> list[Claimed]:
        """Claim up to ``slots`` deliveries (what this engine's free threads can start now).

        ``finished_unrecorded``: sends of this engine that have ended but are not written yet,
        by channel; they are still ``sending`` in the table but no longer in flight.
        ``local_busy`` / ``local_limit``: this engine's own sends in flight by channel, and how
        many of its threads one channel may hold at most (whatever the channel's cap), so a few
        hanging channels can never take every thread of a small pool.
        ``held`` / ``hold_depth``: rows this engine holds back for a channel that answers fast, and
        how many it may hold; each starts in place of one of its own sends of that channel that
        ends, so the next send never waits for a claim. They are ``sending`` in the table, so other
        engines count them as in flight (requests in flight never pass the cap); this one does not.
        ``starts`` tells, after the claim, how many of each channel's rows may start now.
        """
        self.starts: dict[int, int] = {}
        if slots <= 0:
            return []
        now = timezone.now()
        candidates = due_channels(after=self.cursor, now=now, limit=max(2 * slots, 16))
        if not candidates:
            return []
        started = time.monotonic()
        token = uuid.uuid4()
        with transaction.atomic():
            local = (local_busy or Counter(), local_limit or slots)
            extra = (held or Counter(), hold_depth or {})
            allotted, probes = self._allot(candidates, slots, now, finished_unrecorded or Counter(), local, extra)
            if not allotted:
                return []
            mark_claimed(allotted, token=token, now=now, suspects=suspects, timeouts=self._timeouts)
            claimed = self._prepare(token, now, started)
            breaker.note_probes(probes, now=now)
        if allotted:
            self.cursor = list(allotted)[-1]
        return claimed

    def _allot(
        self,
        candidates: list[int],
        slots: int,
        now,
        finished: Counter,
        local: tuple[Counter, int],
        extra: tuple[Counter, dict[int, int]],
    ) -> tuple[dict[int, int], list[int]]:
        locked = lock_channels(candidates)
        caps = {pk: cap for pk, (cap, _) in locked.items()}
        self._timeouts = {pk: timeout for pk, (_, timeout) in locked.items()}
        in_flight = count_in_flight(list(caps))
        rooms, probes = {}, []
        breakers = breaker.states(list(caps))
        for channel_id in candidates:  # candidate order is the round-robin order
            if channel_id not in caps:
                continue  # locked by another worker's claim right now: its turn comes next time
            busy = max(0, in_flight.get(channel_id, 0) - finished.get(channel_id, 0) - extra[0][channel_id])
            room = max(0, min(channel_cap(caps[channel_id]) - busy, local[1] - local[0][channel_id]))
            allowed, probe = breaker.admits(breakers.get(channel_id), in_flight=in_flight.get(channel_id, 0), now=now)
            hold = 0
            if allowed is not None:
                room = min(room, allowed)
            elif room or local[0][channel_id]:  # held back only behind a send of this engine's
                hold = top_up(held=extra[0][channel_id], depth=extra[1].get(channel_id, 0))
            if room or hold:
                rooms[channel_id] = room + hold
                self.starts[channel_id] = room
                if probe:
                    probes.append(channel_id)
        allotted = share_round_robin(rooms, slots)
        self.starts = {c: min(self.starts[c], n) for c, n in allotted.items()}
        return allotted, [c for c in probes if c in rooms]

    def _prepare(self, token: uuid.UUID, now: dt.datetime, started: float) -> list[Claimed]:
        rows = list(
            Delivery.objects.filter(claim_token=token, status=DeliveryStatus.SENDING)
            .select_related("event", "event_type", "subscription")
            .only(*PREPARED_COLUMNS)
            # The order they start in: rows held back for a fast channel start after the others.
            .order_by("next_attempt_at", "pk")
        )
        _attach_channels_and_users(rows)
        sendable, attempts = [], []
        for delivery in rows:
            trigger = delivery.pending_trigger
            reason = refusal_before_send(delivery, trigger)
            if reason:
                refuse(delivery, token=token, error=reason[0], reason=reason[1], now=now)
                continue
            sendable.append(delivery)
            attempts.append(new_attempt(delivery, trigger=trigger, now=now))
        Attempt.objects.bulk_create(attempts)
        return [
            Claimed(
                job=build_job(delivery=delivery, trigger=attempt.trigger, retry_count=delivery.attempt_count - 1),
                delivery_id=delivery.pk,
                channel_id=delivery.channel_id,
                attempt_id=attempt.pk,
                token=token,
                trigger=attempt.trigger,
                automatic_attempts=delivery.automatic_attempts,
                claimed_at=started,
                lease_s=lease_seconds(delivery.channel.timeout),
                lost_before=delivery.lease_expiries,
            )
            for delivery, attempt in zip(sendable, attempts, strict=True)
        ]


# What a claim reads of a delivery and its relations (``refusal_before_send``, ``new_attempt``,
# ``build_job``, ``Claimed``): every other column left unread (on SQLite each datetime column
# is parsed in Python, and a claim read about 30 columns a row it never used).
PREPARED_COLUMNS = (
    "id",
    "channel_id",
    "pending_trigger",
    "requested_by_id",
    "attempt_count",
    "automatic_attempts",
    "lease_expiries",
    "event__id",
    "event__payload",
    "event__occurred_at",
    "event__source",
    "event__triggered_by_id",
    "event_type__key",
    "event_type__name",
    "event_type__enabled",
    "subscription__id",
    "subscription__active",
)


def _attach_channels_and_users(rows: list[Delivery]) -> None:
    """Each channel loaded (and its secrets decrypted) once for the claim, not once per row; the
    users who triggered events, if any: two short queries instead of two more joins per row."""
    channels = rows_by(Channel, "id", {d.channel_id for d in rows})
    user_ids = {d.event.triggered_by_id for d in rows} - {None}
    users = rows_by(get_user_model(), "id", user_ids)
    for delivery in rows:
        delivery.channel = channels[delivery.channel_id]
        if delivery.event.triggered_by_id is not None:
            delivery.event.triggered_by = users.get(delivery.event.triggered_by_id)


def top_up(*, held: int, depth: int) -> int:
    """Rows to hold back beyond those held: none until at most half the depth is left, then back to
    the full depth. A busy fast channel is topped up by one claim every ``depth / 2`` sends rather
    than by one claim a send (a claim costs about as much for one row as for ten)."""
    return depth - held if held <= depth // 2 else 0


def share_round_robin(rooms: dict[int, int], slots: int) -> dict[int, int]:
    """One slot per channel per round, in ``rooms``' order, until the slots or the rooms run out."""
    allotted: dict[int, int] = {}
    while slots > 0:
        progressed = False
        for channel_id, room in rooms.items():
            if slots == 0:
                break
            if allotted.get(channel_id, 0) < room:
                allotted[channel_id] = allotted.get(channel_id, 0) + 1
                slots -= 1
                progressed = True
        if not progressed:
            break
    return allotted


# --- The statements -------------------------------------------------------------------------


# The partial index on (channel, next_attempt_at) of pending rows (``Delivery.Meta.indexes``).
PENDING_CHANNEL_INDEX = "delivery_pending_channel_idx"


def _delivery_table() -> tuple[str, dict[str, str]]:
    meta = Delivery._meta
    names = ("status", "channel", "next_attempt_at")
    return meta.db_table, {name: meta.get_field(name).column for name in names}


def due_channels(*, after: int, now: dt.datetime, limit: int) -> list[int]:
    """Channels with due pending deliveries, in id order starting after ``after`` and wrapping round.

    A skip scan (one index probe per channel with pending rows), so a backlog of 100,000
    rows for one dead endpoint costs one probe, not 100,000 rows read. One statement: the walk
    above ``after``, then (only if that found fewer than ``limit``) the walk from the start up
    to ``after``; both are evaluated lazily, so the walk stops at ``limit`` channels. Channels
    whose breaker lets nothing start now (cooling off, or a probe out) are left out, so ten dead
    endpoints with thousands of waiting rows are neither locked nor counted by every claim.
    """
    table, col = _delivery_table()
    pending = f"{col['status']} = '{DeliveryStatus.PENDING}'"  # a literal, so the partial index applies
    # SQLite's planner takes the (status, id) index for these probes and sorts every pending row
    # (6.5 ms a claim at 10,000 pending, growing with the backlog; 0.02 ms on the right index).
    hint = f" INDEXED BY {PENDING_CHANNEL_INDEX}" if connection.vendor == "sqlite" else ""
    probe_from = f"{table}{hint}"

    def probe(above: str) -> str:
        # Ordered as the partial index (channel, next_attempt_at) is: otherwise PostgreSQL may walk
        # the plain channel index instead, through every finished row of the channel (4 ms a claim
        # after 3,000 deliveries to one channel, growing with the table).
        return (
            f"SELECT (SELECT {col['channel']} FROM {probe_from} WHERE {pending} AND {col['channel']} > {above}"
            f" ORDER BY {col['channel']}, {col['next_attempt_at']} LIMIT 1)"
        )

    resting = breaker.resting_sql("w.channel_id")

    def due(walk: str) -> str:
        # The channel's earliest pending row, one probe of the partial index. Not ``EXISTS (... <= now)``:
        # PostgreSQL plans that as a semi join over every due row of every channel (a bitmap scan of the
        # whole backlog on each claim: 4-5 ms a claim with 3,000 rows due to one channel).
        earliest = (
            f"SELECT d.{col['next_attempt_at']} FROM {table} d{hint} WHERE d.{col['channel']} = w.channel_id"
            f" AND d.{pending} ORDER BY d.{col['channel']}, d.{col['next_attempt_at']} LIMIT 1"
        )
        return (
            f"SELECT w.channel_id FROM {walk} w WHERE w.channel_id IS NOT NULL AND w.channel_id <= %s"
            f" AND ({earliest}) <= %s AND NOT {resting[0]}"
        )

    sql = (
        f"WITH RECURSIVE upper_walk(channel_id) AS ({probe('%s')}"
        f" UNION ALL {probe('u.channel_id')} FROM upper_walk u WHERE u.channel_id IS NOT NULL),"
        f" lower_walk(channel_id) AS ({probe('0')}"
        f" UNION ALL {probe('l.channel_id')} FROM lower_walk l WHERE l.channel_id IS NOT NULL AND l.channel_id < %s)"
        f" SELECT channel_id FROM ({due('upper_walk')} UNION ALL {due('lower_walk')}) AS found LIMIT %s"
    )
    unbounded = 2**62  # the walk above ``after`` runs to the end
    with connection.cursor() as cursor:
        rest = resting[1](now)
        cursor.execute(sql, [after, after, unbounded, now, *rest, after, now, *rest, limit])
        return [row[0] for row in cursor.fetchall()]


def lock_channels(channel_ids: list[int]) -> dict[int, tuple[int | None, int]]:
    """Lock the channels' rows for this transaction, skipping those another claim holds: {id: (max_in_flight, timeout)}."""
    if not channel_ids:
        return {}
    # Raw SQL: this runs on every claim, and compiling the ORM query cost more than running it.
    meta = Channel._meta
    cap, timeout = (meta.get_field(name).column for name in ("max_in_flight", "timeout"))
    lock = " FOR NO KEY UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""  # SQLite: the write lock
    placeholders = ", ".join(["%s"] * len(channel_ids))
    sql = f"SELECT id, {cap}, {timeout} FROM {meta.db_table} WHERE id IN ({placeholders}) ORDER BY id{lock}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(channel_ids))
        return {pk: (max_in_flight, seconds) for pk, max_in_flight, seconds in cursor.fetchall()}


def count_in_flight(channel_ids: list[int]) -> dict[int, int]:
    """``sending`` rows per channel: read after the lock, so every earlier claim is seen."""
    if not channel_ids:
        return {}
    table, col = _delivery_table()
    placeholders = ", ".join(["%s"] * len(channel_ids))
    sql = (
        f"SELECT {col['channel']}, COUNT(*) FROM {table} WHERE {col['status']} = '{DeliveryStatus.SENDING}'"
        f" AND {col['channel']} IN ({placeholders}) GROUP BY {col['channel']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, channel_ids)
        return dict(cursor.fetchall())


def mark_claimed(
    allotted: dict[int, int],
    *,
    token: uuid.UUID,
    now: dt.datetime,
    suspects: int = 0,
    timeouts: dict[int, int] | None = None,
) -> int:
    """Flip the oldest due rows of each channel to ``sending``, counting the attempt; the lease runs on the database's clock.

    Suspects (rows whose sending process was lost before) are taken only up to ``suspects``,
    the engine's free isolated sends, and before the channel's other rows. ``timeouts``: the
    channels' timeouts, if the caller read them already.
    """
    if timeouts is None or not set(allotted) <= set(timeouts):
        timeouts = dict(Channel.objects.filter(pk__in=list(allotted)).values_list("pk", "timeout"))
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    suspect_ids: dict[int, list[int]] = {}
    if suspects:
        rows = due.filter(channel_id__in=list(allotted), lease_expiries__gte=suspect_after()).values_list(
            "channel_id", "pk"
        )
        for channel_id, pk in rows[:suspects]:
            suspect_ids.setdefault(channel_id, []).append(pk)
    # One UPDATE per distinct lease (usually one), not one per channel: with 50 channels due,
    # 50 statements a claim kept the engine's control thread busy while its send threads idled.
    by_lease: dict[float, tuple[list[int], list[tuple[int, int]]]] = {}
    for channel_id, count in allotted.items():
        lease_s = lease_seconds(min(timeouts[channel_id], settings.WEBHOOKS_TIMEOUT_S))
        chosen = suspect_ids.get(channel_id, [])[:count]
        picked, oldest = by_lease.setdefault(lease_s, ([], []))
        picked += chosen
        if count > len(chosen):
            oldest.append((channel_id, count - len(chosen)))
    claimed = 0
    for lease_s, (picked, oldest) in by_lease.items():
        if picked or oldest:
            claimed += _claim_rows(picked, oldest, token=token, lease_s=lease_s, now=now)
    return claimed


def _oldest_due_sql(wanted: list[tuple[int, int]], now: dt.datetime) -> tuple[str, list]:
    """The ids of each channel's oldest due rows that are not suspects, ``count`` per channel (one index range each)."""
    table, col = _delivery_table()
    parts, params = [], []
    for i, (channel_id, count) in enumerate(wanted):
        parts.append(
            f"SELECT * FROM (SELECT id FROM {table} WHERE {col['channel']} = %s"
            f" AND {col['status']} = '{DeliveryStatus.PENDING}' AND lease_expiries < %s AND {col['next_attempt_at']} <= %s"
            f" ORDER BY {col['next_attempt_at']}, id LIMIT %s) AS oldest_{i}"
        )
        params += [channel_id, suspect_after(), connection.ops.adapt_datetimefield_value(now), count]
    return " UNION ALL ".join(parts), params


def _claim_rows(
    picked: list[int], oldest: list[tuple[int, int]], *, token: uuid.UUID, lease_s: float, now: dt.datetime
) -> int:
    """Flip to ``sending`` the ``picked`` rows and each channel's ``oldest`` due ones (still pending), in one UPDATE.

    Raw SQL: it runs on every claim, and compiling the ORM's UPDATE (its CASE, the lease
    expression, the subquery) cost several times running it. The lease expression is the
    ORM's own (``Now() + lease``, on the database's clock), compiled once per lease.
    """
    table, col = _delivery_table()
    quote = connection.ops.quote_name
    field = Delivery._meta.get_field
    lease_sql, lease_params = _lease_expression(lease_s)
    where, where_params = [], []
    if picked:
        where.append(f"id IN ({', '.join(['%s'] * len(picked))})")
        where_params += picked
    if oldest:
        sql, params = _oldest_due_sql(oldest, now)
        where.append(f"id IN ({sql})")
        where_params += params
    automatic = ", ".join(f"'{trigger}'" for trigger in COUNTED_AS_AUTOMATIC)
    counts = {name: quote(field(name).column) for name in ("attempt_count", "automatic_attempts")}
    sql = (
        f"UPDATE {quote(table)} SET {col['status']} = '{DeliveryStatus.SENDING}',"
        f" {quote(field('claim_token').column)} = %s, {quote(field('lease_expires_at').column)} = {lease_sql},"
        f" {counts['attempt_count']} = {counts['attempt_count']} + 1,"
        f" {counts['automatic_attempts']} = {counts['automatic_attempts']}"
        f" + CASE WHEN {quote(field('pending_trigger').column)} IN ({automatic}) THEN 1 ELSE 0 END,"
        f" {quote(field('updated_at').column)} = %s"
        f" WHERE {col['status']} = '{DeliveryStatus.PENDING}' AND ({' OR '.join(where)})"
    )
    params = [
        field("claim_token").get_db_prep_value(token, connection),
        *lease_params,
        field("updated_at").get_db_prep_value(now, connection),
        *where_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


_lease_expressions: dict[tuple[str, float], tuple[str, list]] = {}


def _lease_expression(lease_s: float) -> tuple[str, list]:
    """``Now() + lease`` as the ORM writes it for this database (compiled once per lease length)."""
    key = (connection.vendor, lease_s)
    found = _lease_expressions.get(key)
    if found is None:
        query = Query(Delivery)
        lease = Value(dt.timedelta(seconds=lease_s))
        expression = ExpressionWrapper(Now() + lease, output_field=DateTimeField()).resolve_expression(query)
        sql, params = query.get_compiler(connection=connection).compile(expression)
        found = _lease_expressions[key] = (sql, list(params))
    return found


def new_attempt(delivery: Delivery, *, trigger: str, now: dt.datetime) -> Attempt:
    """The attempt row, written before its request goes out; the outcome completes it."""
    return Attempt(
        delivery_id=delivery.pk,
        number=delivery.attempt_count,
        trigger=trigger,
        triggered_by_id=delivery.requested_by_id if trigger == Trigger.MANUAL else None,
        started_at=now,
        request_url=mask_query_strings(delivery.channel.url)[:2000],
    )


def refuse(delivery: Delivery, *, token: uuid.UUID, error: str, reason: str, now: dt.datetime) -> None:
    """Fail a claimed delivery that must not be sent (channel switched off...): no attempt is spent."""
    automatic = 1 if delivery.pending_trigger in COUNTED_AS_AUTOMATIC else 0
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        status=DeliveryStatus.FAILED,
        last_error=error,
        failure_reason=reason,
        attempt_count=F("attempt_count") - 1,
        automatic_attempts=F("automatic_attempts") - automatic,
        completed_at=now,
        updated_at=now,
        **finished_claim_columns(),
    )


# The columns a claim sets besides the status, cleared.
UNCLAIMED = {"claim_token": None, "lease_expires_at": None}


def finished_claim_columns() -> dict:
    """Column values of a delivery whose claimed attempt is over (sent or refused): no claim, no request.

    Every way a claim ends clears these, listed once here; a claim given back unsent
    (``UNCLAIMED`` only) keeps the manual request it carries waiting.
    """
    return {**UNCLAIMED, "pending_trigger": Trigger.AUTOMATIC, "requested_by": None}
