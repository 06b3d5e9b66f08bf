"""Rows an engine holds back for channels that answer fast, so their next send never waits for a claim.

A claim of a fast channel may take a few rows more than can start now. They wait here, in
claim order, and each starts in a send thread when one of the engine's own sends of that
channel ends: the sends of a busy channel follow each other without a round trip through the
claim, and one claim (one transaction) serves many sends.

Why it is safe:
- the cap: held rows are ``sending`` in the table, so every other engine counts them as in
  flight; this engine starts one only in place of one of its own sends of the channel that
  ended, so its requests in flight to the channel never outnumber the ones it was allowed;
- the lease: only channels whose sends took under ``WEBHOOKS_FAST_SEND_S`` lately hold rows, at
  most ``WEBHOOKS_HOLD_DEPTH`` each (20 x 0.1 s: 2 s with one send at a time, the grace is 5 s), so a held row starts well within the start grace of its lease; the
  sender checks the lease before every request anyway, and gives the row back if it ran out;
- a channel that stops answering gives its held rows back unsent at once (no attempt spent),
  and so does an engine that stops.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque

from django.conf import settings

from deliveries.engine.claims import Claimed

_WEIGHT = 0.2  # of the newest send in the moving average of a channel's send times


class HeldRows:
    """Held rows by channel, the engine's sends in flight by channel, and each channel's recent send time."""

    def __init__(self):
        self._rows: dict[int, deque[Claimed]] = defaultdict(deque)
        self.count: Counter = Counter()  # held rows by channel
        self.sending: Counter = Counter()  # rows in a send thread, by channel
        self._in_thread: set[int] = set()  # their delivery ids
        self._send_s: dict[int, float] = {}
        self._fast: dict[int, int] = {}  # fast channels: how many rows each may have held

    def add(self, claimed: Claimed) -> None:
        self._rows[claimed.channel_id].append(claimed)
        self.count[claimed.channel_id] += 1

    def pop(self, channel_id: int) -> Claimed | None:
        """The channel's oldest held row, or None."""
        rows = self._rows.get(channel_id)
        if not rows:
            return None
        self.count[channel_id] -= 1
        claimed = rows.popleft()
        if not rows:
            del self._rows[channel_id]
        return claimed

    def take_all(self, channel_id: int | None = None) -> list[Claimed]:
        """Every held row of the channel (of every channel for None), taken out."""
        ids = list(self._rows) if channel_id is None else [channel_id]
        taken = []
        for pk in ids:
            while (claimed := self.pop(pk)) is not None:
                taken.append(claimed)
        return taken

    def started(self, claimed: Claimed) -> None:
        self.sending[claimed.channel_id] += 1
        self._in_thread.add(claimed.delivery_id)

    def ended(self, claimed: Claimed, *, seconds: float) -> bool:
        """A row came back; False if it never went to a send thread (it was given back from here)."""
        if claimed.delivery_id not in self._in_thread:
            return False
        self._in_thread.discard(claimed.delivery_id)
        self.sending[claimed.channel_id] -= 1
        if not self.sending[claimed.channel_id]:
            del self.sending[claimed.channel_id]
        before = self._send_s.get(claimed.channel_id, seconds)
        average = self._send_s[claimed.channel_id] = before + _WEIGHT * (seconds - before)
        if average < settings.WEBHOOKS_FAST_SEND_S and settings.WEBHOOKS_HOLD_DEPTH:
            self._fast[claimed.channel_id] = settings.WEBHOOKS_HOLD_DEPTH
        else:
            self._fast.pop(claimed.channel_id, None)
        return True

    def wants_rows(self, channel_id: int) -> bool:
        """After a send of the channel ended: whether a claim should follow soon. Not while a fast
        channel has more than half its depth held (its next sends are here already; ``top_up``)."""
        depth = self._fast.get(channel_id)
        return depth is None or self.count[channel_id] <= depth // 2

    def depth(self) -> dict[int, int]:
        """How many rows each fast channel may have held (channels not listed: none)."""
        return self._fast
