"""Response examples for the OpenAPI schema (drf-spectacular), one place for the shared ones."""

from drf_spectacular.utils import OpenApiExample

EVENT_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"

ATTEMPT = {
    "id": 9001,
    "delivery": 812,
    "event": EVENT_ID,
    "channel": 1,
    "number": 2,
    "trigger": "automatic",
    "triggered_by": None,
    "started_at": "2026-11-23T10:16:00Z",
    "finished_at": "2026-11-23T10:16:00.231Z",
    "duration_ms": 231,
    "succeeded": False,
    "in_flight": False,
    "request_url": "https://hooks.example.com/postbacks?token=***",
    "request_headers": {
        "Content-Type": "application/json",
        "User-Agent": "postbacks/1.1",
        "X-Tenant": "***",
        "webhook-id": EVENT_ID,
        "webhook-timestamp": "1763892960",
        "webhook-signature": "***",
    },
    "response_status": 503,
    "response_headers": {"Content-Type": "text/plain", "Retry-After": "30"},
    "response_body": "upstream unavailable",
    "error": "http_status",
    "error_detail": "HTTP 503",
}

# drf-spectacular puts a list operation's example into a page itself (``results``).
ATTEMPT_PAGE_EXAMPLE = OpenApiExample("A page of attempts", value=ATTEMPT, response_only=True)

STATS_EXAMPLE = OpenApiExample(
    "The last 24 hours",
    value={
        "channel": 1,
        "window": "24h",
        "since": "2026-11-22T10:15:00Z",
        "until": "2026-11-23T10:15:00Z",
        "attempts": 1200,
        "succeeded": 1188,
        "failed": 12,
        "in_flight": 0,
        "success_rate": 0.99,
        "p50_duration_ms": 84,
        "p95_duration_ms": 412,
        "last_success_at": "2026-11-23T10:14:58Z",
        "last_failure_at": "2026-11-23T09:02:11Z",
        "active": True,
        "disabled_at": None,
        "disabled_reason": "",
        "breaker": {"state": "closed", "consecutive_failures": 0, "open_until": None},
    },
    response_only=True,
)
