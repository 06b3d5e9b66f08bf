"""The delivery engine of one worker process: claim what can start now, send, record, repeat.

One control thread does all database work (claims, outcome batches, housekeeping); a
pool of send threads does only HTTP. A claim takes no more rows than there are free
send threads, so no claimed row waits behind slow sends; only a fast channel's few held rows
(``held``) wait, each for one of the engine's own sends to that channel to end.
The loop wakes when a send ends (a thread is free again), when it is kicked (an emit
committed), and at least every ``WEBHOOKS_ENGINE_POLL_S`` (retries that came due).

Outcomes are written in batches (every ``FLUSH_AGE_S`` or ``FLUSH_SIZE`` outcomes); a send
that ended but is not written yet no longer counts against its channel's cap here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from deliveries.engine import heartbeat
from deliveries.engine.claims import Claimed, Claimer
from deliveries.engine.held import HeldRows
from deliveries.engine.jobs import Outcome
from deliveries.engine.leases import requeue_expired_leases
from deliveries.engine.results import Finished, record
from deliveries.engine.send import send_claimed, send_suspect

logger = logging.getLogger(__name__)

# A claim right after another gathers the threads freed meanwhile instead of claiming one row at a time.
CLAIM_INTERVAL_S = 0.005
FLUSH_SIZE = 200
RECORD_TRIES = 10  # failed writes of one batch of outcomes before it is given up
FLUSH_AGE_S = 0.05
HOUSEKEEPING_S = 5.0
SUSPECT_CLAIM_INTERVAL_S = 1.0
# After a database error, the loop waits this long before it tries again.
ERROR_BACKOFF_S = 1.0


@dataclass
class Stats:
    claimed: int = 0
    claims: int = 0  # claims that took rows
    sent: int = 0
    lost_claims: int = 0
    requeued: int = 0
    held_starts: int = 0  # sends that started from rows held back, in place of one that ended
    held_given_back: int = 0  # rows held back and then given back unsent
    by_error: Counter = field(default_factory=Counter)


class Dispatcher:
    def __init__(self, *, threads: int | None = None, poll_s: float | None = None):
        self.threads = threads or settings.WEBHOOKS_SEND_THREADS
        self.poll_s = poll_s if poll_s is not None else settings.WEBHOOKS_ENGINE_POLL_S
        self.stats = Stats()
        self.tick = time.monotonic()  # last pass of the loop (the stall watchdog reads it)
        self._claimer = Claimer()
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="postback")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ended: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        self._running = 0  # claimed rows not ended: in a send thread, or held for one
        self._running_by_channel: Counter = Counter()
        self._held = HeldRows()
        # One channel holds at most a quarter of this engine's threads, whatever its cap.
        self.channel_thread_limit = max(1, self.threads // 4)
        self._suspects_running = 0  # sends in processes of their own (``isolation``)
        self._next_suspect_claim = 0.0
        self._unrecorded: list[Finished] = []
        self._record_failures = 0
        self._unrecorded_by_channel: Counter = Counter()
        self._oldest_unrecorded = 0.0
        self._unanswered_unrecorded = False  # the breaker must hear about these before the next claim
        self._next_claim = 0.0
        self._next_housekeeping = 0.0
        self._idle = False  # the last claim found nothing it could take

    # --- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """New work may be due (an emit committed, a retry was asked for)."""
        self._next_claim = 0.0
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming; sends already started finish and are recorded."""
        self._stop.set()
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return self._running

    # --- the loop ----------------------------------------------------------------------

    def run(self, *, budget_s: float = 60.0) -> Stats:
        """Send until nothing is due and nothing is in flight, or ``budget_s`` is spent (sync mode, tests)."""
        return self._loop(until_idle=True, deadline=time.monotonic() + budget_s)

    def serve(self) -> Stats:
        """Run until ``stop()`` (a worker process's engine): claims, sends, housekeeping."""
        return self._loop(until_idle=False, deadline=None)

    def _loop(self, *, until_idle: bool, deadline: float | None) -> Stats:
        try:
            while not self._finished(until_idle, deadline):
                self.tick = time.monotonic()
                try:
                    self._pass(housekeeping=not until_idle)
                except DatabaseError:
                    logger.exception("Database error in the delivery engine; trying again in %.0f s", ERROR_BACKOFF_S)
                    close_old_connections()
                    self._stop.wait(ERROR_BACKOFF_S)
        finally:
            self._drain()
        return self.stats

    def _finished(self, until_idle: bool, deadline: float | None) -> bool:
        if self._stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
            return True
        return until_idle and self._idle and not self._running and not self._unrecorded and self._ended.empty()

    def _pass(self, *, housekeeping: bool) -> None:
        self._wake.clear()
        self._collect()
        now = time.monotonic()
        if self._unrecorded and (
            len(self._unrecorded) >= FLUSH_SIZE
            or not self._running
            or now - self._oldest_unrecorded >= FLUSH_AGE_S
            or self._unanswered_unrecorded
        ):
            self._record()  # before claiming: a channel that stopped answering is cooled off first
        if self._running < self.threads and now >= self._next_claim:
            self._claim(now)
        if housekeeping and now >= self._next_housekeeping:
            self._housekeeping(now)
        self._wake.wait(self._sleep_for(time.monotonic()))

    def _claim(self, now: float) -> None:
        claimed = self._claimer.claim(
            slots=self.threads - self._running,
            finished_unrecorded=self._unrecorded_by_channel,
            local_busy=self._held.sending,
            local_limit=self.channel_thread_limit,
            suspects=self._suspect_room(now),
            held=self._held.count,
            hold_depth=self._held.depth(),
        )
        for item in claimed:
            self._running += 1
            self._running_by_channel[item.channel_id] += 1
            self._suspects_running += item.suspect
            self._held.add(item)
        for channel_id, starts in self._claimer.starts.items():
            for _ in range(starts):
                self._start(self._held.pop(channel_id))
        self.stats.claimed += len(claimed)
        self.stats.claims += bool(claimed)
        self._idle = not claimed
        self._next_claim = now + (CLAIM_INTERVAL_S if claimed else self.poll_s)

    def _suspect_room(self, now: float) -> int:
        """Isolated sends this claim may start: looked for once a second (suspects are rare and can wait that long)."""
        room = settings.WEBHOOKS_ISOLATED_SENDS - self._suspects_running
        if room <= 0 or now < self._next_suspect_claim:
            return 0
        self._next_suspect_claim = now + SUSPECT_CLAIM_INTERVAL_S
        return room

    def _start(self, claimed: Claimed | None) -> bool:
        if claimed is None:  # nothing held (fewer rows were due than allotted)
            return False
        self._held.started(claimed)
        future = self._pool.submit(send_suspect if claimed.suspect else send_claimed, claimed)

        def done(f, claimed=claimed):
            self._ended.put(Finished(claimed, f.result()))
            self._wake.set()

        future.add_done_callback(done)
        return True

    def _collect(self) -> None:
        while True:
            try:
                item = self._ended.get_nowait()
            except queue.Empty:
                return
            self._running -= 1
            self._running_by_channel[item.claimed.channel_id] -= 1
            self._suspects_running -= item.claimed.suspect
            self._after_send(item)
            if not self._unrecorded:
                self._oldest_unrecorded = time.monotonic()
            self._unrecorded.append(item)
            self._unrecorded_by_channel[item.claimed.channel_id] += 1
            self._unanswered_unrecorded |= item.outcome.unanswered
            self.stats.by_error[item.outcome.error or "ok"] += 1
            if self._held.wants_rows(item.claimed.channel_id):
                # A thread is free, or a fast channel's held rows run low: claim again soon
                # (gathering the others that end meanwhile).
                self._next_claim = min(self._next_claim, time.monotonic() + CLAIM_INTERVAL_S)
            self._idle = False  # only a claim made after this can say there is nothing to do

    def _after_send(self, item: Finished) -> None:
        """A send of the channel ended: the next row held for it starts in its place, unless the
        channel stopped answering or the engine stops (then the held rows go back unsent)."""
        channel_id = item.claimed.channel_id
        if not self._held.ended(item.claimed, seconds=item.outcome.duration_ms / 1000):
            return  # it was held, and given back unsent
        if item.outcome.unanswered or self._stop.is_set():
            self._give_back_held(channel_id)
        elif self._start(self._held.pop(channel_id)):
            self.stats.held_starts += 1

    def _give_back_held(self, channel_id: int | None = None) -> None:
        for claimed in self._held.take_all(channel_id):
            self.stats.held_given_back += 1
            self._ended.put(Finished(claimed, Outcome(started_at=timezone.now(), not_started=True)))

    def _record(self) -> None:
        batch = self._unrecorded
        # A database error here (locked, restarting) leaves the batch to record on a later pass:
        # dropping it would turn answered sends into lost ones, sent again when their leases
        # expire. After RECORD_TRIES failures in a row it is dropped (logged), so one batch that
        # can never be written does not stop the engine; the sweeper closes its attempts then.
        try:
            self.stats.lost_claims += record(batch)
        except DatabaseError:
            self._record_failures += 1
            if self._record_failures < RECORD_TRIES:
                raise
            logger.exception("Dropping %d outcomes after %d failed writes", len(batch), RECORD_TRIES)
        self._record_failures = 0
        self._unrecorded = []
        self._unrecorded_by_channel.clear()
        self._unanswered_unrecorded = False
        self.stats.sent += sum(1 for f in batch if not f.outcome.not_started)
        if any(f.claimed.suspect for f in batch):
            self._next_suspect_claim = 0.0  # one may be due again at once (its process died)
        if not all(f.outcome.succeeded for f in batch):
            # A retry (full jitter) or a row given back may be due at once. A batch of successes makes
            # nothing due: claiming after it found nothing to take on a busy fast channel, every time.
            self._next_claim = min(self._next_claim, time.monotonic())
        self._idle = False

    def _housekeeping(self, now: float) -> None:
        self._next_housekeeping = now + HOUSEKEEPING_S
        self.stats.requeued += requeue_expired_leases()["requeued"]
        heartbeat.beat(in_flight=self._running, sent=self.stats.sent)

    def _sleep_for(self, now: float) -> float:
        waits = [self._next_housekeeping - now]
        if self._running < self.threads:
            waits.append(self._next_claim - now)
        if self._unrecorded:
            waits.append(self._oldest_unrecorded + FLUSH_AGE_S - now)
        return max(0.0, min(waits))

    def _drain(self) -> None:
        """Wait for the sends that started, then record everything (claims stop first)."""
        self._give_back_held()
        self._pool.shutdown(wait=True)
        self._collect()
        if self._unrecorded:
            try:
                self._record()
            except DatabaseError:
                logger.exception("Could not record the last outcomes; their leases will expire and they go out again")
