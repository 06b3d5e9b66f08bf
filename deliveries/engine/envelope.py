"""The postback's body and headers (SPEC section 4): the envelope, the Standard Webhooks signature,
and the request headers as the attempt log keeps them (credentials masked)."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from standardwebhooks.webhooks import Webhook

from channels.masking import mask_custom_headers
from deliveries.engine.jobs import Job


def format_timestamp(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def build_envelope(job: Job) -> str:
    """The postback body of SPEC section 4 (camelCase, compact JSON)."""
    return json.dumps(
        {
            "eventId": job.event_id,
            "eventType": job.event_type,
            "occurredAt": format_timestamp(job.occurred_at),
            "source": job.source,
            "triggerUser": job.trigger_user,
            "webhookConfig": job.webhook_config,
            "retryCount": job.retry_count,
            "payload": job.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def sign(*, secrets: tuple[str, ...] | list[str], msg_id: str, timestamp: dt.datetime, body: str) -> str:
    """``webhook-signature``: one ``v1,<base64>`` per secret, space-separated (Standard Webhooks)."""
    return " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets)


def signed_postback(job: Job) -> tuple[str, dict, dict]:
    """The body, the headers to send, and the headers to log of one postback attempt."""
    body = build_envelope(job)
    timestamp = dt.datetime.now(dt.UTC)
    # Custom headers first, so the envelope's own headers always win (validation refuses them too).
    headers = {str(k): str(v) for k, v in (job.headers or {}).items()}
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": settings.WEBHOOKS_USER_AGENT,
            "webhook-id": job.event_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": sign(secrets=job.secrets, msg_id=job.event_id, timestamp=timestamp, body=body),
        }
    )
    return body, headers, mask_custom_headers(job.headers or {}, headers)
