"""Slack channels: a human-readable text posted to an incoming-webhook URL (unsigned)."""

from __future__ import annotations

import json

from django.conf import settings

from deliveries.engine.envelope import format_timestamp
from deliveries.engine.jobs import Job


def slack_text(job: Job) -> str:
    payload = json.dumps(job.payload, ensure_ascii=False, indent=1)
    if len(payload) > 2500:
        payload = payload[:2500] + "\n…"
    who = f" by {job.trigger_user}" if job.trigger_user else ""
    return (
        f"*{job.event_type_name}* (`{job.event_type}`) from {job.source}{who} "
        f"at {format_timestamp(job.occurred_at)}\nEvent {job.event_id}\n```{payload}```"
    )


def slack_message(job: Job) -> tuple[str, dict, dict]:
    """The body, the headers to send, and the headers to log of one Slack attempt."""
    body = json.dumps({"text": slack_text(job)}, ensure_ascii=False)
    headers = {"Content-Type": "application/json", "User-Agent": settings.WEBHOOKS_USER_AGENT}
    return body, headers, dict(headers)
