"""Sending a suspect delivery in a process of its own, so a send that kills its process kills only itself.

A delivery is a suspect once processes sending it were lost twice (``claims.suspect_after``:
its last try before the poison cap). Such a send may be what kills its process (a poison
answer: a crash in a native library, memory exhausted by what the endpoint sends), and
every other send in flight in that process would die with it and be taken back as lost
too, again and again, until the poison cap fails them all. So a suspect is never sent
by the engine's threads: a send thread starts a fresh ``python -m
deliveries.engine.isolated_child`` child, hands it the job on stdin and reads the outcome
from its stdout. If the child dies, only this delivery's attempt is lost; it counts
towards the poison cap (``WEBHOOKS_MAX_LEASE_EXPIRIES``) like a lease that ran out.

Children are rare (only after a process was lost) and few at once (``WEBHOOKS_ISOLATED_SENDS``
per engine); each costs one interpreter start. The child touches no database.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import sys
import time

from django.conf import settings

from deliveries.engine.jobs import Job, Outcome
from deliveries.models import ErrorKind

# The child's start (interpreter, Django, the HTTP client) comes out of the lease's margin.
_SPARE_S = 1.0


def send_isolated(job: Job, *, seconds_left: float) -> Outcome:
    """Make ``job``'s attempt in a child process; a child that dies or overruns comes back as ``worker_lost``."""
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "deliveries.engine.isolated_child"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,  # the child's log lines go where this process's go
    )
    try:
        out, _ = child.communicate(pickle.dumps(job), timeout=max(1.0, seconds_left - _SPARE_S))
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return _lost(started, clock, "did not finish within its lease and was stopped")
    if child.returncode == 0 and out:
        return pickle.loads(out)  # our own child's answer, over a pipe only we hold
    return _lost(started, clock, f"died (exit status {child.returncode})")


def _lost(started: dt.datetime, clock: float, what: str) -> Outcome:
    return Outcome(
        started_at=started,
        duration_ms=int((time.monotonic() - clock) * 1000),
        error=ErrorKind.WORKER_LOST,
        error_detail=(
            f"The process sending this attempt on its own {what} before it had an answer; "
            "the endpoint may have received it."
        ),
    )
