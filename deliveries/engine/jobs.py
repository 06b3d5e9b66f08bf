"""What one attempt needs (``Job``) and what came of it (``Outcome``), and building a job from a delivery.

The dispatcher builds a ``Job`` from the database in its own thread and hands it to a
pool thread, which calls ``send.perform`` and gets an ``Outcome`` back; nothing that
runs in a pool thread touches the ORM, so pool threads never hold database connections.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from channels.secrets import signing_secrets
from common.masking import mask_query_strings
from deliveries.models import Delivery
from events.catalogue.names import native_name
from events.formats import PayloadFormat

# 408 Request Timeout, 425 Too Early, 429 Too Many Requests, and the gateway family (SPEC section 4).
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Job:
    """Everything one attempt needs, copied out of the database."""

    kind: str  # channels.ChannelKind value
    url: str
    email_to: str
    # Credentials: kept out of repr(), so no error page or log line lists them.
    headers: dict = field(repr=False)
    timeout: float
    secrets: tuple[str, ...] = field(repr=False)
    event_id: str
    event_type: str
    event_type_name: str
    occurred_at: dt.datetime
    source: str
    trigger_user: str | None
    webhook_config: int | None
    retry_count: int
    payload: dict
    delivery_id: int | None = None
    channel_id: int | None = None
    # The channel's payload format (SPEC section 12) and what that format calls the event type.
    format: str = PayloadFormat.STANDARD
    native_type: str = ""


@dataclass
class Outcome:
    """What happened in one attempt; ``error`` is an ``ErrorKind`` value or ''."""

    started_at: dt.datetime
    duration_ms: int = 0
    request_url: str = ""
    request_headers: dict = field(default_factory=dict)
    response_status: int | None = None
    response_headers: dict = field(default_factory=dict)
    response_body: str = ""
    error: str = ""
    error_detail: str = ""
    retry_after_s: float | None = None
    # The request never went out: its claim could no longer cover a whole attempt.
    not_started: bool = False

    @property
    def succeeded(self) -> bool:
        if self.error or self.not_started:
            return False
        return self.response_status is None or 200 <= self.response_status < 300

    @property
    def retryable(self) -> bool:
        """May an automatic retry follow? (Timeouts may not: seed 004.)"""
        if self.error in ("connection", "dns", "email"):
            return True
        return self.error == "http_status" and self.response_status in RETRYABLE_STATUSES

    @property
    def unanswered(self) -> bool:
        """Nobody answered: what the circuit breaker counts."""
        return self.error in ("timeout", "connection", "dns")


def clean_text(value: str) -> str:
    """Text from the remote end, storable anywhere: PostgreSQL text cannot hold NUL characters."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def short_error(exc: BaseException) -> str:
    """An exception as a storable one-liner for an attempt's ``error_detail``."""
    # requests' messages quote the URL (``url: /hook?token=...``): its query values are masked.
    return clean_text(mask_query_strings(f"{type(exc).__name__}: {exc}")[:1000])


def build_job(*, delivery: Delivery, trigger: str, retry_count: int) -> Job:
    """The ``Job`` for one attempt of ``delivery`` (its event, channel, event type loaded).

    ``retry_count``: the attempts made before this one (the envelope's ``retryCount``).
    """
    event = delivery.event
    channel = delivery.channel
    user = event.triggered_by
    payload_format = channel.format if channel.is_postback else PayloadFormat.STANDARD
    return Job(
        kind=channel.kind,
        url=channel.url,
        email_to=channel.email_to,
        headers=dict(channel.headers or {}),
        timeout=float(min(channel.timeout or settings.WEBHOOKS_TIMEOUT_S, settings.WEBHOOKS_TIMEOUT_S)),
        secrets=tuple(signing_secrets(channel)) if channel.is_postback else (),
        event_id=str(event.pk),
        event_type=delivery.event_type_id,
        event_type_name=delivery.event_type.name,
        occurred_at=event.occurred_at,
        source=event.source,
        trigger_user=user.get_username() if user is not None else None,
        webhook_config=delivery.subscription_id,
        retry_count=retry_count,
        payload=event.payload,
        delivery_id=delivery.pk,
        channel_id=channel.pk,
        format=payload_format,
        # None only for a type attached before its channel's format changed (validation refuses both since).
        native_type=native_name(delivery.event_type_id, payload_format) or delivery.event_type_id,
    )
