"""Real HTTP receivers on 127.0.0.1 ephemeral ports, well-behaved and hostile.

Every one is a real listening socket served from a thread of the test process, so
the code under test (in-process or a ``qcluster`` subprocess) talks TCP to it
exactly as it would to a customer's endpoint. What each receiver saw is recorded
on the receiver side, which is the only honest place to count duplicates and
overlapping attempts.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --------------------------------------------------------------------------
# A recording receiver: answers each request as a behaviour function says.
# --------------------------------------------------------------------------


@dataclass
class Received:
    webhook_id: str
    body: bytes
    headers: dict
    started: float  # time.monotonic() when the request line arrived
    finished: float = 0.0  # when the answer was written

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # the receiver "working" before it answers


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output readable
        pass

    def do_POST(self):
        owner: RecordingReceiver = self.server.owner
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = Received(
            webhook_id=self.headers.get("webhook-id", ""),
            body=body,
            headers={k.lower(): v for k, v in self.headers.items()},
            started=started,
        )
        owner._arrived(record)
        reply = owner.behaviour(record)
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        record.finished = time.monotonic()
        owner._answered(record)

    do_PUT = do_POST


class RecordingReceiver:
    """A threaded HTTP server that records every request and answers per ``behaviour``.

    With ``listening=False`` the port is bound but not listening, so a connection is
    refused (RST) until ``start_listening()``: "receiver down, then back" on the same
    port, with no window in which another process could take it.
    """

    def __init__(self, behaviour: Callable[[Received], Reply] | None = None, *, listening: bool = True):
        self.behaviour = behaviour or (lambda record: Reply())
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self.in_flight: Counter = Counter()
        self.max_in_flight_per_id = 0
        self.overlaps: list[str] = []  # webhook ids seen twice at the same moment
        self._server = _RecordingServer(("127.0.0.1", 0), _RecordingHandler, bind_and_activate=False)
        self._server.owner = self
        self._server.server_bind()
        self.port = self._server.server_address[1]
        self._thread = None
        if listening:
            self.start_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start_listening(self):
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- recording ---------------------------------------------------------
    def _arrived(self, record: Received):
        with self._lock:
            self.requests.append(record)
            self.in_flight[record.webhook_id] += 1
            if self.in_flight[record.webhook_id] > 1:
                self.overlaps.append(record.webhook_id)
            self.max_in_flight_per_id = max(self.max_in_flight_per_id, self.in_flight[record.webhook_id])

    def _answered(self, record: Received):
        with self._lock:
            self.in_flight[record.webhook_id] -= 1

    # -- what was seen -----------------------------------------------------
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def ids(self) -> Counter:
        with self._lock:
            return Counter(r.webhook_id for r in self.requests)

    def duplicates(self) -> int:
        """Requests beyond the first for each webhook id (at-least-once allows some)."""
        return sum(n - 1 for n in self.ids().values() if n > 1)


# --------------------------------------------------------------------------
# Hostile receivers: raw sockets, because http.server is too polite for these.
# --------------------------------------------------------------------------


class _RawServer:
    """Accept loop on 127.0.0.1:0; each connection handled by ``self.handle(conn)`` in a thread."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.connections = 0
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            threading.Thread(target=self._safe_handle, args=(conn,), daemon=True).start()

    def _safe_handle(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass

    @staticmethod
    def read_request(conn: socket.socket) -> bytes:
        """Read one request (headers and Content-Length body) so the client sees a normal exchange."""
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head

    def handle(self, conn):  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        with self._lock:
            for conn in self._conns:
                try:
                    conn.close()
                except OSError:
                    pass
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SilentReceiver(_RawServer):
    """Accepts the connection, reads the request, and never answers.

    Records when each connection was accepted and when the client gave up (closed
    its end), so a test can see the sender's timeout from the receiver's side.
    """

    def __init__(self):
        self.accepted_at: list[float] = []
        self.client_closed_after: list[float] = []
        super().__init__()

    def handle(self, conn):
        accepted = time.monotonic()
        self.accepted_at.append(accepted)
        self.read_request(conn)
        conn.settimeout(None)
        # Block until the client hangs up: recv returns b"" (or raises) then.
        while not self._stop.is_set():
            try:
                conn.settimeout(0.2)
                if conn.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        if not self._stop.is_set():
            self.client_closed_after.append(time.monotonic() - accepted)


class HugeBodyReceiver(_RawServer):
    """Answers 200 with a 100 MB body, and counts how much of it the client took.

    The send buffer is kept small so that "bytes sent" is close to "bytes the client
    read": once the client stops reading and closes, the server's send fails.
    """

    BODY_SIZE = 100 * 1024 * 1024
    CHUNK = 16 * 1024

    def __init__(self, status: int = 200):
        self.status = status
        self.bytes_sent = 0
        self.completed = False  # the whole 100 MB went out
        self.client_closed = threading.Event()
        super().__init__()

    def handle(self, conn):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        self.read_request(conn)
        conn.sendall(
            f"HTTP/1.1 {self.status} OK\r\nContent-Type: text/plain\r\nContent-Length: {self.BODY_SIZE}\r\n\r\n".encode()
        )
        chunk = b"x" * self.CHUNK
        sent = 0
        conn.settimeout(30)
        try:
            while sent < self.BODY_SIZE and not self._stop.is_set():
                n = conn.send(chunk[: self.BODY_SIZE - sent])
                sent += n
                self.bytes_sent += n
            self.completed = sent >= self.BODY_SIZE
        except OSError:
            self.client_closed.set()


class RedirectReceiver(_RawServer):
    """Answers every request with a redirect to ``location``."""

    def __init__(self, location: str, status: int = 302):
        self.location = location
        self.status = status
        super().__init__()

    def handle(self, conn):
        self.read_request(conn)
        conn.sendall(
            f"HTTP/1.1 {self.status} Found\r\nLocation: {self.location}\r\nContent-Length: 0\r\n"
            f"Connection: close\r\n\r\n".encode()
        )
        conn.close()


class TrickleReceiver(_RawServer):
    """Starts an answer and then sends one byte every ``interval`` seconds, for ``duration`` seconds.

    Each read returns within ``interval``, so a client whose timeout is per read (as
    ``requests``' is) never times out: only a deadline on the whole attempt stops it.
    Records, per connection, how long the client stayed.
    """

    def __init__(self, *, interval: float = 0.5, duration: float = 60.0):
        self.interval = interval
        self.duration = duration
        self.client_stayed: list[float] = []
        super().__init__()

    def handle(self, conn):
        accepted = time.monotonic()
        self.read_request(conn)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: ")
            while time.monotonic() - accepted < self.duration and not self._stop.is_set():
                time.sleep(self.interval)
                conn.sendall(b"a")
            conn.sendall(b"\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            self.client_stayed.append(time.monotonic() - accepted)


class GzipBombReceiver(_RawServer):
    """Answers 200 with ``Content-Encoding: gzip``: about 100 KB on the wire, 100 MB once inflated."""

    INFLATED = 100 * 1024 * 1024

    def __init__(self):
        import gzip

        self.body = gzip.compress(b"\0" * self.INFLATED, compresslevel=9)
        self.client_closed = threading.Event()
        super().__init__()

    def handle(self, conn):
        self.read_request(conn)
        try:
            conn.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                + self.body
            )
            conn.settimeout(10)
            conn.recv(1)  # until the client hangs up
        except OSError:
            pass
        self.client_closed.set()
