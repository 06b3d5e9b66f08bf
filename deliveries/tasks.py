"""django-q2 jobs. Thin: they take plain values, and the engine and the services do the work.

Retries live in the deliveries table (``next_attempt_at``), never in the broker: the
cluster runs each job once (``max_attempts=1``), and the sweeper schedule finds
whatever a lost job or a dead worker left behind.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from deliveries.engine.dispatcher import Dispatcher
from deliveries.engine.kick import KICK_WINDOW_S
from deliveries.services import purge_old_records

# Well under the cluster's ``timeout`` (90 s), leaving room for the last sends (30 s at most) to finish.
DISPATCH_BUDGET_S = 45.0
SWEEP_BUDGET_S = 50.0
SWEEP_POLL_S = 1.0
SWEEP_LEASES_EVERY_S = 5.0


@contextlib.contextmanager
def _stop_on_signal():
    """SIGTERM / SIGINT during a job end it early and cleanly: started sends finish and are saved.

    django-q2 workers ignore SIGINT and die on SIGTERM; a Ctrl-C or a service stop would
    otherwise wait for a ~50 s sweeper, or lose its in-flight results to a lease expiry.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    received: list[int] = []

    def handler(signum, _frame):
        received.append(signum)
        stop.set()

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        if signal.SIGTERM in received and previous[signal.SIGTERM] in (signal.SIG_DFL, None):
            # The worker was asked to die while we finished up: now it may.
            signal.raise_signal(signal.SIGTERM)


def dispatch(kicked_at: float | None = None) -> dict:
    """Send what is due now; queued on commit by ``emit`` and by manual retries."""
    poll_until = (kicked_at + KICK_WINDOW_S) if kicked_at else None
    with _stop_on_signal() as stop:
        stats = Dispatcher().run(budget_s=DISPATCH_BUDGET_S, poll_until=poll_until, stop=stop)
    return {"claimed": stats.claimed, "sent": stats.sent, "stopped": stop.is_set()}


def sweep(budget_s: float = SWEEP_BUDGET_S) -> dict:
    """The safety net (a schedule, once a minute): for about ``budget_s`` seconds, take back
    expired leases every few seconds and send whatever is due, polling every second.

    django-q2 runs schedules at most once a minute, so the sweeper stays on duty for most of
    that minute instead of running once: retries come due within a second or so, and a
    delivery whose worker died is taken back soon after its lease expires.
    """
    with _stop_on_signal() as stop:
        stats = Dispatcher().run(
            budget_s=budget_s,
            keep_polling=True,
            poll_interval_s=SWEEP_POLL_S,
            sweep_every_s=SWEEP_LEASES_EVERY_S,
            stop=stop,
        )
    return {"claimed": stats.claimed, "sent": stats.sent, "requeued": stats.requeued, "stopped": stop.is_set()}


def purge() -> dict:
    """Retention: events and attempts older than ``WEBHOOKS_RETENTION_DAYS``, in batches."""
    return purge_old_records()
