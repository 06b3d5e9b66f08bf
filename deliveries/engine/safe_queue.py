"""django-q2's task and result queues, made safe against a worker killed while it waits.

``multiprocessing.Queue.get()`` holds the queue's cross-process read lock for as long
as it blocks waiting for data, and django-q2's idle workers wait exactly there
(``for task in iter(task_queue.get, "STOP")``). SIGKILL an idle worker and the lock
stays held forever: its replacement and every other worker then block on it, and the
cluster runs no job again until it is restarted by hand. Fifteen lines show it without
django-q2 (``tests/reliability/test_cluster_heals.py`` keeps them as a test).

``SafeQueue`` waits for data *without* the lock and takes the lock only to read a
message that is already there, so a process killed while idle holds nothing. A lock
held longer than any read can take (``ORPHANED_LOCK_S``) belonged to a process that
died in that microsecond window: it is released, with a critical log line.

``install()`` makes django-q2's Sentinel build its queues with this class; the
project's ``qcluster`` command calls it before the cluster starts.
"""

from __future__ import annotations

import logging
import time
from multiprocessing.reduction import ForkingPickler
from queue import Empty

from django_q.queues import Queue as DjangoQQueue

logger = logging.getLogger(__name__)

# How long one wait for data lasts before the loop looks again (it is not a delay: data wakes it).
WAIT_S = 0.5
# Nobody holds the read lock longer than one read of a message that is already there.
ORPHANED_LOCK_S = 10.0


class SafeQueue(DjangoQQueue):
    """A ``django_q.queues.Queue`` whose ``get`` never holds the read lock while it waits."""

    def get(self, block: bool = True, timeout: float | None = None):
        if self._closed:
            raise ValueError(f"Queue {self!r} is closed")
        deadline = (
            None if block and timeout is None else time.monotonic() + (max(0.0, timeout or 0.0) if block else 0.0)
        )
        while True:
            wait = WAIT_S if deadline is None else max(0.0, min(WAIT_S, deadline - time.monotonic()))
            if self._reader.poll(wait):
                data = self._read_if_ready()
                if data is not None:
                    self.size.increment(-1)
                    return ForkingPickler.loads(data)
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    def _read_if_ready(self) -> bytes | None:
        """Read one message under the lock, or None when another reader took it first."""
        if not self._rlock.acquire(timeout=ORPHANED_LOCK_S):
            logger.critical(
                "The task queue's read lock was held for %.0f s: its holder died holding it; releasing it",
                ORPHANED_LOCK_S,
            )
            try:
                self._rlock.release()
            except ValueError:
                pass  # released meanwhile: fine
            return None
        try:
            if not self._reader.poll(0):
                return None
            data = self._recv_bytes()
            self._sem.release()
            return data
        finally:
            self._rlock.release()


def install() -> None:
    """Make django-q2's Sentinel create its task and result queues as ``SafeQueue``."""
    from django_q import cluster

    cluster.Queue = SafeQueue
