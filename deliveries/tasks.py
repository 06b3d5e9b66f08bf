"""django-q2 jobs. Thin: they wake the engine or call a service, and return at once.

The engine runs in every worker process (``deliveries.engine.runtime``); retries live in
the deliveries table (``next_attempt_at``), never in the broker, and the cluster runs each
job once (``max_attempts=1``).
"""

from __future__ import annotations

from deliveries import recovery
from deliveries.alerting.watch import run_checks
from deliveries.engine import heartbeat, runtime
from deliveries.engine.dispatcher import Dispatcher
from deliveries.engine.leases import requeue_expired_leases
from deliveries.models import WorkerHeartbeat
from deliveries.services import purge_old_records

# A process without an engine of its own (django-q2's sync mode) drains what is due for at most this long.
SYNC_BUDGET_S = 60.0


def dispatch(kicked_at: float | None = None) -> dict:
    """Something became due (an emit committed, a retry was asked for): wake this worker's engine."""
    engine = runtime.local_engine()
    if engine is not None:
        engine.wake()
        return {"woke": True}
    stats = Dispatcher().run(budget_s=SYNC_BUDGET_S)
    return {"woke": False, "claimed": stats.claimed, "sent": stats.sent}


def sweep() -> dict:
    """The safety net (a schedule, once a minute): take back expired leases, wake the engine, say it ran.

    Engines take back expired leases every few seconds themselves; this runs even when none does.
    """
    counts = requeue_expired_leases()
    recovery.resume_stalled()  # recover jobs nobody advanced for minutes (a lost enqueue, a killed worker)
    heartbeat.beat(in_flight=0, sent=0, kind=WorkerHeartbeat.Kind.SWEEPER)
    engine = runtime.local_engine()
    if engine is not None:
        engine.wake()
    return counts


def purge() -> dict:
    """Retention: events and attempts older than ``WEBHOOKS_RETENTION_DAYS``, in batches."""
    return purge_old_records()


def watch() -> dict:
    """Nothing fails silently (a schedule, once a minute): auto-disable, undelivered alerts, exhausted deliveries."""
    return run_checks()


def run_recover(job_id: int) -> dict:
    """A recover job (``deliveries.recovery``): a time-bounded run of batches; it re-enqueues itself until done."""
    job = recovery.run_recover(job_id=job_id)
    return {"job": job_id, "status": job.status if job else "not active"}
