"""The kick: ask a worker to send what is due now, once the transaction that made it due commits."""

from __future__ import annotations

import logging
import threading
import time

from django.db import transaction

logger = logging.getLogger(__name__)

# Kicks from one process closer together than this are coalesced into one: a woken engine
# claims everything due, and a busy one keeps claiming as its send threads free up.
KICK_WINDOW_S = 0.05

_kick_lock = threading.Lock()
_last_kick = 0.0


def queue_dispatch() -> None:
    """Ask a worker to send what is due now. Call it through ``queue_dispatch_on_commit``.

    Coalesced per process (at most one kick per ``KICK_WINDOW_S``), so 1,000 emits a
    second do not become 1,000 broker jobs a second. A lost kick costs latency, not
    deliveries: every engine also looks for due rows every ``WEBHOOKS_ENGINE_POLL_S``.
    """
    global _last_kick
    now = time.monotonic()
    with _kick_lock:
        if now - _last_kick < KICK_WINDOW_S:
            return
        _last_kick = now
    try:
        from django_q.tasks import async_task

        async_task("deliveries.tasks.dispatch", time.time(), q_options={"task_name": "dispatch"})
    except Exception:  # the broker is down: the sweeper will find the rows
        logger.exception("Could not queue the dispatcher; the sweeper will pick the deliveries up")


def queue_dispatch_on_commit() -> None:
    """Kick the dispatcher when the current transaction commits (nothing is sent for a rollback).

    Every writer that makes a delivery due (``emit``, manual retry) comes through here, and
    ``queue_dispatch`` is looked up in this module when called: tests replace it here alone.
    """
    transaction.on_commit(queue_dispatch, robust=True)
