"""The engine's place in a django-q2 worker process.

Every worker process of every ``qcluster`` runs one engine in a background thread, started
when django-q2 spawns the worker (its ``post_spawn`` signal). django-q2 still does what it
is good at: processes and their supervision, the broker for kicks and the other jobs,
schedules, scale-out over machines. Jobs only wake the engine and return, so no job runs
long and no worker is pinned by slow endpoints.

The engine thread is not a daemon: a worker that stops (Ctrl-C, ``recycle``) first lets the
sends that started finish and be recorded (at most one timeout). A loop that stops making
progress for ``WEBHOOKS_ENGINE_STALL_S`` ends its process, which django-q2 replaces.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django_q.conf import Conf

from deliveries.engine.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_engine: Dispatcher | None = None
_engine_pid: int | None = None


def start_in_worker(**_signal_kwargs) -> Dispatcher | None:
    """Start this process's engine (idempotent). Connected to django-q2's ``post_spawn``.

    Not in django-q2's sync mode, where the "worker" is the caller's own process: jobs then
    drain what is due themselves (``deliveries.tasks.dispatch``).
    """
    global _engine, _engine_pid
    if Conf.SYNC:
        return None
    with _lock:
        if _engine is not None and _engine_pid == os.getpid():
            return _engine
        engine = Dispatcher()
        threading.Thread(target=engine.serve, name="postback-engine").start()
        # Called when the process begins to exit, before it waits for its threads.
        threading._register_atexit(engine.stop)
        threading.Thread(target=_watch, args=(engine,), name="postback-engine-watch", daemon=True).start()
        _engine, _engine_pid = engine, os.getpid()
        logger.info("Delivery engine started in process %s with %d send threads", os.getpid(), engine.threads)
        return engine


def local_engine() -> Dispatcher | None:
    """This process's running engine, if it has one."""
    return _engine if _engine_pid == os.getpid() else None


def _watch(engine: Dispatcher) -> None:
    """End the process when the engine's loop is stuck; django-q2 then spawns a fresh worker."""
    stall = settings.WEBHOOKS_ENGINE_STALL_S
    while True:
        time.sleep(min(10.0, stall / 4))
        stuck_for = time.monotonic() - engine.tick
        if stuck_for > stall:
            logger.critical(
                "The delivery engine made no progress for %.0f s; ending this worker to be replaced", stuck_for
            )
            os._exit(70)
