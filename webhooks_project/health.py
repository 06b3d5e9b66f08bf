"""``/healthz`` and ``/readyz`` (SPEC section 11): JSON, 200 or 503, no authentication.

``/healthz`` says the process answers (no database). ``/readyz`` checks the database, the
broker, an engine heartbeat and the sweeper within their windows, and reports the oldest due
delivery: two SQL statements (heartbeats, backlog), plus one Redis PING when Redis is the
broker. The bodies name no host, address or error text: a failure says which check failed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from deliveries.operations import due_backlog, heartbeats

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    checks = readiness()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def readiness() -> dict[str, dict]:
    try:
        beats, backlog = heartbeats(), due_backlog()
    except DatabaseError:
        logger.exception("readyz: the database did not answer")
        failed = {"ok": False, "error": "database unavailable"}
        return {
            "database": {"ok": False},
            "broker": _broker(database_ok=False),
            "workers": failed,
            "sweeper": failed,
            "oldest_due": failed,
        }
    worker_window, sweeper_window = settings.WEBHOOKS_WORKER_MAX_AGE_S, settings.WEBHOOKS_SWEEPER_MAX_AGE_S
    due_limit = settings.WEBHOOKS_READY_MAX_DUE_AGE_S
    return {
        "database": {"ok": True},
        "broker": _broker(database_ok=True),
        "workers": {
            "ok": beats.worker_age_s is not None and beats.worker_age_s <= worker_window,
            "alive": beats.workers_alive,
            "last_seen_s": _round(beats.worker_age_s),
            "max_age_s": worker_window,
        },
        "sweeper": {
            "ok": beats.sweeper_age_s is not None and beats.sweeper_age_s <= sweeper_window,
            "last_seen_s": _round(beats.sweeper_age_s),
            "max_age_s": sweeper_window,
        },
        "oldest_due": {
            "ok": not due_limit or backlog.oldest_due_age_s <= due_limit,
            "age_s": _round(backlog.oldest_due_age_s),
            "due": backlog.due,
        },
    }


def _broker(*, database_ok: bool) -> dict:
    if not settings.REDIS_URL:
        return {"ok": database_ok, "kind": "orm"}  # django-q2's ORM broker is the database
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        return {"ok": bool(client.ping()), "kind": "redis"}
    except redis.RedisError:
        logger.exception("readyz: Redis did not answer")
        return {"ok": False, "kind": "redis"}
    finally:
        client.close()


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
