"""One exchange with a destination (SPEC section 4), free of the database.

The dispatcher builds a ``Job`` from the database in its own thread and hands it to a
pool thread, which calls ``perform`` and gets an ``Outcome`` back; nothing here touches
the ORM, so pool threads never hold database connections.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from channels.ssrf import BlockedTarget, UnresolvableHost, VettedAddressAdapter

logger = logging.getLogger(__name__)

RESPONSE_BODY_LIMIT = 4096
# 408 Request Timeout, 425 Too Early, 429 Too Many Requests, and the gateway family (SPEC section 4).
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Custom header names whose values are masked in the attempt log: they usually carry credentials.
_SENSITIVE_HEADER_WORDS = ("authorization", "token", "secret", "password", "api-key", "apikey", "cookie")


@dataclass(frozen=True)
class Job:
    """Everything one attempt needs, copied out of the database."""

    kind: str  # channels.ChannelKind value
    url: str
    email_to: str
    headers: dict
    timeout: float
    secrets: tuple[str, ...]
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


@dataclass
class Outcome:
    """What happened in one attempt; ``error`` is an ``ErrorKind`` value or ''."""

    started_at: dt.datetime
    duration_ms: int = 0
    request_url: str = ""
    request_headers: dict = field(default_factory=dict)
    request_body: str = ""
    response_status: int | None = None
    response_headers: dict = field(default_factory=dict)
    response_body: str = ""
    error: str = ""
    error_detail: str = ""
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        if self.error:
            return False
        return self.response_status is None or 200 <= self.response_status < 300

    @property
    def retryable(self) -> bool:
        """May an automatic retry follow? (Timeouts may not: seed 004.)"""
        if self.error in ("connection", "dns", "email"):
            return True
        return self.error == "http_status" and self.response_status in RETRYABLE_STATUSES


# --- A deadline on the whole attempt ------------------------------------------------
#
# requests' timeout bounds each socket read, so an endpoint that trickles one byte every
# half second is never cut off. One watchdog thread per process holds every attempt's
# deadline; when one passes it shuts the attempt's socket down, the blocked read returns,
# and the attempt ends as a timeout. The connection registers itself (``_AttemptConnection``)
# with the attempt running on its thread.


class _Attempt:
    __slots__ = ("connection", "expired")

    def __init__(self):
        self.connection = None
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        connection = self.connection
        if connection is None or getattr(connection, "_postback_attempt", None) is not self:
            return  # finished, and the pooled connection may already serve another attempt
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Watchdog:
    def __init__(self):
        self._heap: list[tuple[float, int, _Attempt]] = []
        self._cancelled: set[int] = set()
        self._condition = threading.Condition()
        self._counter = 0
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def arm(self, seconds: float, attempt: _Attempt) -> int:
        with self._condition:
            if self._thread is None or self._pid != os.getpid():
                self._heap, self._cancelled, self._pid = [], set(), os.getpid()
                self._thread = threading.Thread(target=self._run, name="postback-watchdog", daemon=True)
                self._thread.start()
            self._counter += 1
            entry = (time.monotonic() + seconds, self._counter, attempt)
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:  # only an earlier deadline changes what the watchdog waits for
                self._condition.notify()
            return self._counter

    def disarm(self, token: int, attempt: _Attempt) -> None:
        with self._condition:
            self._cancelled.add(token)
            attempt.connection = None

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                deadline, token, attempt = self._heap[0]
                if token in self._cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled.discard(token)
                    continue
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                heapq.heappop(self._heap)
                # Under the lock, so a disarm() racing with the deadline either wins or waits.
                attempt.expire()


_watchdog = _Watchdog()
_current = threading.local()


def _register(connection) -> None:
    attempt = getattr(_current, "attempt", None)
    connection._postback_attempt = attempt
    if attempt is not None:
        attempt.connection = connection


class _AttemptConnection(HTTPConnection):
    def request(self, *args, **kwargs):
        _register(self)
        return super().request(*args, **kwargs)


class _AttemptHTTPSConnection(HTTPSConnection):
    def request(self, *args, **kwargs):
        _register(self)
        return super().request(*args, **kwargs)


class _AttemptPool(HTTPConnectionPool):
    ConnectionCls = _AttemptConnection


class _AttemptHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _AttemptHTTPSConnection


# --- The HTTP session -------------------------------------------------------------

_session_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


def get_session() -> requests.Session:
    """One session per process (rebuilt after a fork), shared by the pool threads."""
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        with _session_lock:
            if _session is None or _session_pid != os.getpid():
                session = requests.Session()
                # Never a proxy from the environment: it would connect somewhere other than the vetted address.
                session.trust_env = False
                adapter = VettedAddressAdapter(pool_connections=64, pool_maxsize=64, max_retries=0)
                adapter.poolmanager.pool_classes_by_scheme = {"http": _AttemptPool, "https": _AttemptHTTPSPool}
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                _session, _session_pid = session, os.getpid()
    return _session


# --- Envelope and signature -------------------------------------------------------


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


def _loggable_headers(headers: dict) -> dict:
    logged = {}
    for name, value in headers.items():
        lowered = name.lower()
        if any(word in lowered for word in _SENSITIVE_HEADER_WORDS):
            value = "***"
        logged[name] = value
    return logged


def slack_text(job: Job) -> str:
    payload = json.dumps(job.payload, ensure_ascii=False, indent=1)
    if len(payload) > 2500:
        payload = payload[:2500] + "\n…"
    who = f" by {job.trigger_user}" if job.trigger_user else ""
    return (
        f"*{job.event_type_name}* (`{job.event_type}`) from {job.source}{who} "
        f"at {format_timestamp(job.occurred_at)}\nEvent {job.event_id}\n```{payload}```"
    )


# --- Performing one attempt -------------------------------------------------------


def perform(job: Job) -> Outcome:
    """Make one attempt; never raises (an unexpected error becomes an ``internal`` outcome)."""
    started = dt.datetime.now(dt.UTC)
    try:
        if job.kind == "email":
            return _send_email(job, started)
        return _post(job, started)
    except Exception as exc:  # a bug must not lose the delivery: it is recorded and the delivery fails
        logger.exception("Unexpected error sending delivery %s", job.delivery_id)
        return Outcome(started_at=started, error="internal", error_detail=f"{type(exc).__name__}: {exc}"[:1000])


def _post(job: Job, started: dt.datetime) -> Outcome:
    if job.kind == "slack":
        body = json.dumps({"text": slack_text(job)}, ensure_ascii=False)
        headers = {"Content-Type": "application/json", "User-Agent": settings.WEBHOOKS_USER_AGENT}
        logged = dict(headers)
    else:
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
        logged = _loggable_headers(headers)
    outcome = Outcome(started_at=started, request_url=job.url, request_headers=logged, request_body=body)
    clock = time.monotonic()
    response = None
    attempt = _current.attempt = _Attempt()
    token = _watchdog.arm(job.timeout, attempt)
    try:
        response = get_session().post(
            job.url,
            data=body.encode("utf-8"),
            headers=headers,
            timeout=job.timeout,
            allow_redirects=False,
            stream=True,
        )
        outcome.response_status = response.status_code
        outcome.response_headers = {clean_text(str(k)): clean_text(str(v)) for k, v in response.headers.items()}
        outcome.response_body = _read_head(response, outcome)
        if attempt.expired:
            # Cut off by the deadline: what was parsed before the hang-up is not an answer.
            outcome.response_status, outcome.response_headers, outcome.response_body = None, {}, ""
            outcome.error = "timeout"
            outcome.error_detail = f"No complete response within {job.timeout:g} s (the endpoint answered too slowly)."
        elif not 200 <= response.status_code < 300:
            outcome.error = "http_status"
            outcome.error_detail = clean_text(f"HTTP {response.status_code} {response.reason or ''}".strip())
            outcome.retry_after_s = parse_retry_after(response.headers.get("Retry-After"))
    except UnresolvableHost as exc:
        outcome.error, outcome.error_detail = "dns", str(exc)
    except BlockedTarget as exc:
        outcome.error, outcome.error_detail = "blocked_target", str(exc)
    except requests.exceptions.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
        outcome.error = "timeout"
        outcome.error_detail = f"No response within {job.timeout:g} s ({type(exc).__name__})."
    except requests.exceptions.RequestException as exc:
        if attempt.expired:
            outcome.error = "timeout"
            outcome.error_detail = f"No complete response within {job.timeout:g} s (the endpoint answered too slowly)."
        elif isinstance(exc, requests.exceptions.ConnectionError):
            outcome.error = "dns" if _is_name_resolution_error(exc) else "connection"
            outcome.error_detail = _short(exc)
        else:
            outcome.error, outcome.error_detail = "connection", _short(exc)
    finally:
        _watchdog.disarm(token, attempt)
        _current.attempt = None
        if response is not None:
            response.close()
        outcome.duration_ms = int((time.monotonic() - clock) * 1000)
    return outcome


def _read_head(response: requests.Response, outcome: Outcome) -> str:
    """At most the first 4 KiB of the body: a 100 MB answer costs one read."""
    try:
        head = response.raw.read(RESPONSE_BODY_LIMIT, decode_content=True) or b""
    except Exception as exc:  # the status already decides the outcome; note why the body is missing
        outcome.error_detail = f"Reading the response body failed (or was cut at the timeout): {_short(exc)}"
        return ""
    text = clean_text(head[:RESPONSE_BODY_LIMIT].decode(response.encoding or "utf-8", errors="replace"))
    # Replacement characters take 3 bytes each: keep what is stored within 4 KiB too.
    return text.encode("utf-8")[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="ignore")


def clean_text(value: str) -> str:
    """Text from the remote end, storable anywhere: PostgreSQL text cannot hold NUL characters."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _send_email(job: Job, started: dt.datetime) -> Outcome:
    recipients = [a.strip() for a in job.email_to.split(",") if a.strip()]
    subject = f"[Postbacks] {job.event_type_name} ({job.event_type}) from {job.source}"
    body = (
        f"Event {job.event_id}\nType: {job.event_type}\nSource: {job.source}\n"
        f"Occurred at: {format_timestamp(job.occurred_at)}\n"
        + (f"Triggered by: {job.trigger_user}\n" if job.trigger_user else "")
        + "\nPayload:\n"
        + json.dumps(job.payload, ensure_ascii=False, indent=2)
    )
    outcome = Outcome(
        started_at=started,
        request_url="mailto:" + ",".join(recipients),
        request_headers={"To": ", ".join(recipients), "Subject": subject},
        request_body=body,
    )
    clock = time.monotonic()
    try:
        connection = get_connection(fail_silently=False, timeout=job.timeout)
        EmailMessage(subject=subject, body=body, to=recipients, connection=connection).send()
    except Exception as exc:  # SMTP down, refused recipient...: retried like a connection error
        outcome.error, outcome.error_detail = "email", _short(exc)
    outcome.duration_ms = int((time.monotonic() - clock) * 1000)
    return outcome


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _is_name_resolution_error(exc: BaseException) -> bool:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ == "NameResolutionError":
            return True
        reason = getattr(current, "reason", None)
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = reason if isinstance(reason, BaseException) else nested or current.__cause__ or current.__context__
    return False


def _short(exc: BaseException) -> str:
    return clean_text(f"{type(exc).__name__}: {exc}"[:1000])
