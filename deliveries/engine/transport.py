"""HTTP for one attempt: the pinned-address session, a bounded read, a deadline on the whole attempt.

Free of the database: pool threads call ``post`` and never hold a database connection.
What the attempt means (signed body, outcome) is ``envelope`` and ``send``.
"""

from __future__ import annotations

import datetime as dt
import heapq
import http.cookiejar
import os
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from channels.ssrf import VettedAddressAdapter
from deliveries.engine.jobs import clean_text, short_error

RESPONSE_BODY_LIMIT = 4096
RESPONSE_HEADERS_LIMIT = 8192
HEADER_VALUE_LIMIT = 1024


class AttemptTimedOut(Exception):
    """The whole attempt outlived its timeout: the watchdog hung up on it."""


@dataclass
class Answer:
    """What the endpoint sent back, bounded and storable."""

    status: int
    reason: str
    headers: dict = field(default_factory=dict)
    body: str = ""
    read_error: str = ""  # why the body is missing, when reading it failed
    retry_after: str | None = None


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


# --- Sessions: one per channel, no cookies -----------------------------------------
#
# Nothing one channel's endpoint sets (a cookie, a keep-alive connection) ever reaches
# another channel's request. The least recently used sessions beyond MAX_SESSIONS close.

MAX_SESSIONS = 512


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


_sessions_lock = threading.Lock()
_sessions: OrderedDict = OrderedDict()
_sessions_pid: int | None = None


def session_for(channel_id: int | None) -> requests.Session:
    """This process's session for one channel (rebuilt after a fork)."""
    global _sessions_pid
    with _sessions_lock:
        if _sessions_pid != os.getpid():
            _sessions.clear()
            _sessions_pid = os.getpid()
        session = _sessions.get(channel_id)
        if session is not None:
            _sessions.move_to_end(channel_id)
            return session
        session = requests.Session()
        # Never a proxy from the environment: it would connect somewhere other than the vetted address.
        session.trust_env = False
        session.cookies.set_policy(_NoCookies())
        adapter = VettedAddressAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        adapter.poolmanager.pool_classes_by_scheme = {"http": _AttemptPool, "https": _AttemptHTTPSPool}
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _sessions[channel_id] = session
        while len(_sessions) > MAX_SESSIONS:
            _sessions.popitem(last=False)[1].close()
        return session


# --- One POST ---------------------------------------------------------------------


def post(url: str, *, body: bytes, headers: dict, timeout: float, channel_id: int | None = None) -> Answer:
    """POST ``body`` to ``url`` once: no redirects followed, at most ``RESPONSE_BODY_LIMIT`` bytes of the
    answer read, and the whole exchange cut off after ``timeout`` seconds.

    Raises ``AttemptTimedOut`` when the deadline cut the exchange off, ``channels.ssrf.BlockedTarget``
    (or ``UnresolvableHost``) for a refused target, and ``requests``' exceptions for the rest.
    """
    response = None
    attempt = _current.attempt = _Attempt()
    token = _watchdog.arm(timeout, attempt)
    try:
        response = session_for(channel_id).post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
        answer = Answer(
            status=response.status_code,
            reason=response.reason or "",
            headers=bounded_headers(response.headers),
            retry_after=response.headers.get("Retry-After"),
        )
        answer.body, answer.read_error = _read_head(response)
        if attempt.expired:
            # Cut off by the deadline: what was parsed before the hang-up is not an answer.
            raise AttemptTimedOut()
        return answer
    except requests.exceptions.Timeout:
        raise  # requests' own timeout (connect, or one read) is reported as such
    except requests.exceptions.RequestException as exc:
        if attempt.expired:
            raise AttemptTimedOut() from exc
        raise
    finally:
        _watchdog.disarm(token, attempt)
        _current.attempt = None
        if response is not None:
            response.close()


def _read_head(response: requests.Response) -> tuple[str, str]:
    """At most the first 4 KiB of the body (a 100 MB answer costs one read), and why it is missing if it is."""
    try:
        head = response.raw.read(RESPONSE_BODY_LIMIT, decode_content=True) or b""
    except Exception as exc:  # the status already decides the outcome; note why the body is missing
        return "", f"Reading the response body failed (or was cut at the timeout): {short_error(exc)}"
    text = clean_text(head[:RESPONSE_BODY_LIMIT].decode(response.encoding or "utf-8", errors="replace"))
    # Replacement characters take 3 bytes each: keep what is stored within 4 KiB too.
    return text.encode("utf-8")[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="ignore"), ""


def is_name_resolution_error(exc: BaseException) -> bool:
    """Does this connection error come from a failed DNS lookup (urllib3's ``NameResolutionError``)?"""
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


def bounded_headers(headers) -> dict[str, str]:
    """Response headers as stored: each value at most 1 KiB, all of them within 8 KiB, storable text."""
    kept, used, dropped = {}, 0, 0
    for name, value in headers.items():
        name, value = clean_text(str(name))[:200], clean_text(str(value))
        if len(value) > HEADER_VALUE_LIMIT:
            value = value[:HEADER_VALUE_LIMIT] + "…"
        size = len(name.encode()) + len(value.encode())
        if used + size > RESPONSE_HEADERS_LIMIT - 100:
            dropped += 1
            continue
        kept[name] = value
        used += size
    if dropped:
        kept["X-Postbacks-Headers-Dropped"] = f"{dropped} more headers were not stored (8 KiB limit)"
    return kept


def parse_retry_after(value) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None for anything else."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 64:
        return None
    if value.isdigit():
        return float(min(int(value[:12]), 10**9))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    except OverflowError:
        return None
