"""Claim due deliveries in batches and send them concurrently (SPEC sections 4 and 5).

One django-q2 job runs one ``Dispatcher.run``: claim due rows with a conditional
UPDATE (the worker that flipped ``pending`` to ``sending`` with its token owns them,
``claims``), hand them to a bounded thread pool with a cap per channel (a slow or dead
endpoint holds at most ``per_channel`` threads), and write attempts and status changes
in bulk (``results``). Only the dispatcher's own thread touches the database; pool
threads only do I/O (``send.perform``).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from deliveries.engine import claims
from deliveries.engine.jobs import Outcome, build_job
from deliveries.engine.outcome import record_outcome, refuse_without_attempt
from deliveries.engine.refusals import refusal_before_send
from deliveries.engine.results import save_results
from deliveries.engine.send import perform
from deliveries.models import Delivery, DeliveryStatus, Trigger

# Threads sending at once per worker process, and at most this many to one channel.
THREADS = int(os.environ.get("WEBHOOKS_DISPATCH_THREADS", "16"))
PER_CHANNEL = int(os.environ.get("WEBHOOKS_DISPATCH_PER_CHANNEL", "8"))
# A channel may have twice its cap claimed (running + waiting its turn here), so a
# claimed row waits at most one timeout before it is sent: the lease covers two
# timeouts plus this slack before another worker may take the row back.
LEASE_SLACK_S = 15
# After a claim that found nothing it could take, wait this long before the next full claim
# (unless a channel gets room sooner), so a backlog for a saturated channel is not rescanned in a loop.
CLAIM_BACKOFF_S = 0.05
# Meanwhile, this often ask the cheap question "was any delivery inserted since?" (a primary-key
# range probe), so a job kept alive only by slow sends notices new work for healthy channels quickly.
NEW_ROWS_POLL_S = 0.005
# Results are written when this many are waiting, or when the oldest waited this long.
FLUSH_SIZE = 200
FLUSH_AGE_S = 0.05

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None


def get_pool() -> ThreadPoolExecutor:
    """One pool per worker process, reused across jobs."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="postback")
            _pool_pid = os.getpid()
        return _pool


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    refused: int = 0
    lost_leases: int = 0
    requeued: int = 0
    released: int = 0
    by_status: Counter = field(default_factory=Counter)


@dataclass
class _Flight:
    delivery: Delivery
    trigger: str
    token: uuid.UUID


class Dispatcher:
    def __init__(self, *, threads: int = THREADS, per_channel: int = PER_CHANNEL):
        self.threads = threads
        self.per_channel = max(1, min(per_channel, threads))
        self.lease = dt.timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT_S + LEASE_SLACK_S)
        self.stats = Stats()
        self._running: dict[Future, _Flight] = {}
        self._waiting: dict[int, deque[_Flight]] = defaultdict(deque)
        self._running_by_channel: Counter = Counter()
        self._claimed_by_channel: Counter = Counter()  # running + waiting
        self._done: list[tuple[_Flight, Outcome]] = []
        self._oldest_done = 0.0
        self._claim_after = 0.0
        self._lost_race = False
        # Highest delivery id that existed when the last claim found nothing to take (None: unknown).
        self._idle_mark: int | None = None

    # --- the loop ----------------------------------------------------------------

    def run(
        self,
        *,
        budget_s: float,
        poll_until: float | None = None,
        keep_polling: bool = False,
        poll_interval_s: float = 1.0,
        sweep_every_s: float | None = None,
        stop: threading.Event | None = None,
    ) -> Stats:
        """Send due deliveries until nothing is due (or ``budget_s`` is spent).

        ``poll_until`` (a ``time.time()``) keeps looking for new work until then even when
        idle: the kick that started this run stands for every kick coalesced after it.
        ``keep_polling`` makes the run poll every ``poll_interval_s`` for its whole budget
        (the sweeper), taking back expired leases every ``sweep_every_s``. Setting ``stop``
        ends the run as if the budget were spent: started sends finish and are saved.
        """
        stop = stop or threading.Event()
        deadline = time.monotonic() + budget_s
        last_sweep = 0.0
        pool = get_pool() if self.threads == THREADS else ThreadPoolExecutor(max_workers=self.threads)
        try:
            while True:
                now = time.monotonic()
                if stop.is_set():
                    deadline = now
                if sweep_every_s is not None and now - last_sweep >= sweep_every_s:
                    self.stats.requeued += claims.requeue_expired_leases()
                    last_sweep = now
                if self._step(pool, now=now, deadline=deadline):
                    continue
                if not self._idle_wait(
                    stop,
                    deadline=deadline,
                    keep_polling=keep_polling,
                    poll_interval_s=poll_interval_s,
                    poll_until=poll_until,
                ):
                    break
        finally:
            self._finish(pool)
        return self.stats

    def _step(self, pool: ThreadPoolExecutor, *, now: float, deadline: float) -> bool:
        """Claim, start, collect and flush once. True when there is more to do at once."""
        claimed = 0
        self._lost_race = False
        if (
            now < deadline
            and self._claimed_total() < 2 * self.threads
            and (now >= self._claim_after or self._rows_inserted_since_idle())
        ):
            claimed = self._claim_more()
            if self._lost_race:
                self._claim_after = 0.0
        self._start_waiting(pool)
        if self._running:
            self._collect(timeout=0.005 if claimed else NEW_ROWS_POLL_S)
            self._start_waiting(pool)
        flushed = False
        if self._done and (
            len(self._done) >= FLUSH_SIZE or not self._running or time.monotonic() - self._oldest_done >= FLUSH_AGE_S
        ):
            self._flush()
            flushed = True  # a result may have made a retry due at once: look again
            self._claim_after = 0.0
        return bool(self._running or claimed or flushed or self._lost_race)

    def _idle_wait(
        self, stop: threading.Event, *, deadline: float, keep_polling: bool, poll_interval_s: float, poll_until
    ) -> bool:
        """Nothing to do right now: wait for more when the run should, and say whether it goes on."""
        now = time.monotonic()
        if now >= deadline:
            return False
        if keep_polling:
            stop.wait(min(poll_interval_s, max(0.0, deadline - now)))
        elif poll_until is not None and time.time() < poll_until:
            stop.wait(min(0.01, max(0.0, poll_until - time.time())))
        else:
            return False
        self._claim_after = 0.0
        return True

    def _finish(self, pool: ThreadPoolExecutor) -> None:
        self._release_waiting()
        if self._running:
            self._collect(timeout=None)
        if self._done:
            self._flush()
        if pool is not _pool:
            pool.shutdown(wait=True)

    def _claimed_total(self) -> int:
        return sum(self._claimed_by_channel.values())

    # --- claiming ----------------------------------------------------------------

    def _claim_more(self) -> int:
        flights = self.claim(limit=2 * self.threads - self._claimed_total())
        if not flights:
            self._claim_after = time.monotonic() + CLAIM_BACKOFF_S
            # Read only when idle (a busy claim pays no extra round trip); a row inserted between
            # the claim and this read waits for the next full claim instead of the probe.
            self._idle_mark = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        else:
            self._idle_mark = None
        for flight in flights:
            self._waiting[flight.delivery.channel_id].append(flight)
            self._claimed_by_channel[flight.delivery.channel_id] += 1
        return len(flights)

    def _rows_inserted_since_idle(self) -> bool:
        """Cheap probe between full claims: only new rows can be new work for a channel with room.

        Retries that come due and rows whose insert committed out of id order are picked
        up by the next full claim, at most ``CLAIM_BACKOFF_S`` later.
        """
        if self._idle_mark is None:
            return False
        return Delivery.objects.filter(pk__gt=self._idle_mark).exists()

    def _start_waiting(self, pool: ThreadPoolExecutor) -> None:
        """Start waiting deliveries while threads are free, at most ``per_channel`` per channel."""
        for channel_id in list(self._waiting):
            queue = self._waiting[channel_id]
            while (
                queue and len(self._running) < self.threads and self._running_by_channel[channel_id] < self.per_channel
            ):
                flight = queue.popleft()
                future = pool.submit(perform, build_job(delivery=flight.delivery, trigger=flight.trigger))
                self._running[future] = flight
                self._running_by_channel[channel_id] += 1
            if not queue:
                del self._waiting[channel_id]

    def claim(self, *, limit: int) -> list[_Flight]:
        """Claim up to ``limit`` due deliveries, at most twice ``per_channel`` held per channel.

        Channels already holding more than ``per_channel`` are left out of the query, so a
        backlog for a slow endpoint never hides due deliveries for the others behind it.
        """
        if limit <= 0:
            return []
        now = timezone.now()
        full = [c for c, n in self._claimed_by_channel.items() if n > self.per_channel]
        token = uuid.uuid4()
        if connection.vendor == "postgresql":
            claimed = self._claim_in_one_statement(limit, full, token, now)
            if not claimed:
                return []
        else:
            # SQLite: one writer at a time anyway; read without the write lock, then one conditional UPDATE.
            picked = self._pick(claims.due_candidates(now=now, skip_channels=full, limit=limit * 2), limit)
            if not picked:
                return []
            claimed = claims.mark_claimed(picked, token=token, now=now, lease=self.lease)
        if not claimed:
            # Another worker claimed these first: there is due work, so the caller looks again.
            self._lost_race = True
            return []
        return self._flights(claims.load_claimed(token), token)

    def _flights(self, rows: list[Delivery], token: uuid.UUID) -> list[_Flight]:
        """The claimed rows that may be sent; the others fail at once, unsent, with the reason."""
        self.stats.claimed += len(rows)
        flights, refused = [], []
        now = timezone.now()
        for delivery in rows:
            trigger = Trigger.MANUAL if delivery.pending_trigger == Trigger.MANUAL else Trigger.AUTOMATIC
            reason = refusal_before_send(delivery, trigger)
            if reason:
                refuse_without_attempt(delivery=delivery, error=reason[0], reason=reason[1], now=now)
                refused.append((delivery, None))
            else:
                flights.append(_Flight(delivery=delivery, trigger=trigger, token=token))
        if refused:
            self.stats.lost_leases += save_results(refused, [], [token], now)
            self.stats.refused += len(refused)
        return flights

    def _claim_in_one_statement(self, limit: int, full: list[int], token: uuid.UUID, now: dt.datetime) -> int:
        """PostgreSQL: one statement claims; rows beyond a channel's cap (twice ``per_channel``
        claimed) are given straight back, keeping the lease arithmetic true."""
        rows = claims.claim_in_one_statement(limit=limit, skip_channels=full, token=token, now=now, lease=self.lease)
        kept = set(self._pick([(pk, channel_id) for pk, channel_id, _ in rows], limit))
        excess = [pk for pk, _, _ in rows if pk not in kept]
        if excess:
            # Over a channel's cap: back to pending as they were (same next_attempt_at, so same order).
            claims.give_back(
                Delivery.objects.filter(pk__in=excess, claim_token=token, status=DeliveryStatus.SENDING),
                now=now,
                due_now=False,
            )
        return len(kept)

    def _pick(self, candidates: list[tuple[int, int]], limit: int) -> list[int]:
        return claims.pick(
            candidates, limit, claimed_by_channel=self._claimed_by_channel, per_channel_cap=2 * self.per_channel
        )

    def _release_waiting(self) -> None:
        """Give claimed-but-unstarted deliveries back (the budget is spent), not wait for them."""
        waiting = [flight for queue in self._waiting.values() for flight in queue]
        self._waiting.clear()
        if not waiting:
            return
        for flight in waiting:
            self._claimed_by_channel[flight.delivery.channel_id] -= 1
        self.stats.released += claims.give_back(
            Delivery.objects.filter(
                pk__in=[f.delivery.pk for f in waiting],
                claim_token__in={f.token for f in waiting},
                status=DeliveryStatus.SENDING,
            ),
            now=timezone.now(),
            due_now=True,
        )

    # --- results -----------------------------------------------------------------

    def _collect(self, *, timeout: float | None) -> None:
        if timeout is None:
            done, _ = wait(list(self._running), timeout=None)  # shutting down: every thread
        else:
            done, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            flight = self._running.pop(future)
            channel_id = flight.delivery.channel_id
            self._running_by_channel[channel_id] -= 1
            self._claimed_by_channel[channel_id] -= 1
            if self._claimed_by_channel[channel_id] <= 0:
                del self._claimed_by_channel[channel_id]
                del self._running_by_channel[channel_id]
            if self._claimed_by_channel[channel_id] <= self.per_channel:
                self._claim_after = 0.0  # this channel has room again
            if not self._done:
                self._oldest_done = time.monotonic()
            self._done.append((flight, future.result()))

    def _flush(self) -> None:
        done, self._done = self._done, []
        now = timezone.now()
        rows, attempts, tokens = [], [], set()
        for flight, outcome in done:
            attempts.append(record_outcome(delivery=flight.delivery, outcome=outcome, trigger=flight.trigger, now=now))
            rows.append((flight.delivery, flight.trigger))
            tokens.add(flight.token)
            self.stats.by_status[flight.delivery.status] += 1
        self.stats.sent += len(done)
        self.stats.lost_leases += save_results(rows, attempts, list(tokens), now)
