"""The postback's body and headers (SPEC section 4): the envelope, the Standard Webhooks signature,
and the request headers as the attempt log keeps them (credentials masked).

The body is built in the channel's payload format (SPEC section 12): ``standard`` and ``nitrobox``
are section 4's envelope (nitrobox with its own type names), ``fakturia`` is seed 001's webhook
body, ``flat`` is seed 002's notification with the payload's fields at the top level. Every format
is signed the same way, and ``webhook-id`` is the event's id in all of them (fakturia's body has no
``eventId``: the header is the receiver's key for idempotency there).
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from standardwebhooks.webhooks import Webhook

from channels.masking import mask_custom_headers
from deliveries.engine.jobs import Job
from events.formats import FLAT_RESERVED_KEYS, PayloadFormat


class PayloadClash(ValueError):
    """A flat body cannot be built: a payload key would overwrite one of the envelope's fields."""


def format_timestamp(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def format_local_time(value: dt.datetime) -> str:
    """Seed 001's ``triggerDate``: the platform's local time (``TIME_ZONE``), to the second, no offset."""
    return value.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%dT%H:%M:%S")


def _event_type(job: Job) -> str:
    return job.native_type or job.event_type


def standard_body(job: Job) -> dict:
    """SPEC section 4's envelope; the ``nitrobox`` format too, with its technical identifiers as type names."""
    return {
        "eventId": job.event_id,
        "eventType": _event_type(job),
        "occurredAt": format_timestamp(job.occurred_at),
        "source": job.source,
        "triggerUser": job.trigger_user,
        "webhookConfig": job.webhook_config,
        "retryCount": job.retry_count,
        "payload": job.payload,
    }


def fakturia_body(job: Job) -> dict:
    """Seed 001's webhook: its fields in its order; the event's id travels in ``webhook-id``."""
    return {
        "eventType": _event_type(job),
        "triggerDate": format_local_time(job.occurred_at),
        "triggerUser": job.trigger_user,
        "webhookConfig": job.webhook_config,
        "retryCount": job.retry_count,
        "payload": job.payload,
    }


def flat_body(job: Job) -> dict:
    """Seed 002's notification: ``eventId``, ``eventType``, ``occurredAt`` and the payload's fields beside them.

    ``emit`` refuses a payload that would overwrite one of the three for the types flat channels may
    get; an older event that still does is refused here, never sent with a field silently replaced.
    """
    clashing = [key for key in FLAT_RESERVED_KEYS if key in job.payload]
    if clashing:
        raise PayloadClash(
            f"The payload has {', '.join(clashing)} as a key, which the flat format's body uses itself: not sent."
        )
    return {
        "eventId": job.event_id,
        "eventType": _event_type(job),
        "occurredAt": format_timestamp(job.occurred_at),
        **job.payload,
    }


BODIES = {
    PayloadFormat.STANDARD: standard_body,
    PayloadFormat.NITROBOX: standard_body,
    PayloadFormat.FAKTURIA: fakturia_body,
    PayloadFormat.FLAT: flat_body,
}


def build_envelope(job: Job) -> str:
    """The postback body in the job's format (camelCase, compact JSON)."""
    return json.dumps(BODIES[job.format](job), separators=(",", ":"), ensure_ascii=False)


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


EXAMPLE_EVENT_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
EXAMPLE_OCCURRED_AT = dt.datetime(2026, 11, 23, 10, 15, tzinfo=dt.UTC)


def example_body(*, event_type_key: str, payload: dict, native_type: str, payload_format: str) -> str:
    """What a first attempt of an event with ``payload`` looks like in ``payload_format`` (the admin's example).

    Built by the same function as every postback, from the example values of SPEC section 4.
    """
    job = Job(
        kind="postback",
        url="",
        email_to="",
        headers={},
        timeout=0,
        secrets=(),
        event_id=EXAMPLE_EVENT_ID,
        event_type=event_type_key,
        event_type_name=event_type_key,
        occurred_at=EXAMPLE_OCCURRED_AT,
        source="shop",
        trigger_user=None,
        webhook_config=12,
        retry_count=0,
        payload=payload,
        format=payload_format,
        native_type=native_type,
    )
    return json.dumps(json.loads(build_envelope(job)), indent=2, ensure_ascii=False)
