"""Worker heartbeats in the database, so a web process (``/readyz``, the admin) can see the workers.

One row per worker process (host and pid), written by its engine every few seconds.
"""

from __future__ import annotations

import os
import socket

from django.utils import timezone

from deliveries.models import WorkerHeartbeat

_HOST = socket.gethostname()[:100]


def beat(*, in_flight: int, sent: int, kind: str = WorkerHeartbeat.Kind.ENGINE) -> None:
    now = timezone.now()
    key = f"{_HOST}:{os.getpid()}" if kind == WorkerHeartbeat.Kind.ENGINE else kind
    updated = WorkerHeartbeat.objects.filter(key=key).update(seen_at=now, in_flight=in_flight, sent=sent)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            key=key,
            defaults={
                "kind": kind,
                "host": _HOST,
                "pid": os.getpid(),
                "seen_at": now,
                "in_flight": in_flight,
                "sent": sent,
            },
        )
