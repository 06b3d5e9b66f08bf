"""The one test HTTP server: a real threaded receiver on 127.0.0.1 (an ephemeral port).

The code under test (in this process or in a ``qcluster`` subprocess) talks TCP to it exactly
as it would to a customer's endpoint, and everything is recorded on the receiver's side (the
only honest place to count duplicates and overlapping attempts): path, headers, body, when each
request arrived and was answered, and when the client hung up.

What it answers is a ``Reply``, per path or by default: status, headers, body, a delay, a
``threading.Event`` to hold the answer until released, and the hostile answers of SPEC
section 5 (``silent``: never answer; ``body_size``: stream a huge body; ``trickle_every``: one
header byte at a time). A redirect or a gzip bomb is an ordinary ``Reply`` with the right
status, headers and body.

``Receiver()`` binds its port at once but listens only from ``start()``: until then a
connection is refused, so "receiver down, then back on the same port" needs no second server.
``stop()`` returns at once (no poll interval to wait out) and hangs up on every open connection.
"""

from __future__ import annotations

import json
import selectors
import socket
import socketserver
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds "working" before answering
    hold: threading.Event | None = None  # answer only once this is set (or after hold_max seconds)
    hold_max: float = 60.0
    reason: str | None = None  # the status line's reason phrase (None: the standard one)
    # Hostile answers
    silent: bool = False  # read the request, never answer; wait until the client hangs up
    body_size: int = 0  # stream a body of this many bytes (instead of ``body``) through a small send buffer
    trickle_every: float = 0.0  # start the answer, then send one header byte this often ...
    trickle_for: float = 60.0  # ... for this long (each read is quick: only a deadline on the whole attempt helps)


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    arrived: float  # time.monotonic() once the request was read
    answered: float = 0.0  # when the receiver was done with it (answer written, or the client gone)
    hung_up: float = 0.0  # when the receiver saw the client hang up before the whole answer went out
    bytes_sent: int = 0  # body bytes that went out (``body_size`` answers)
    client_port: int = 0  # the sender's local port (find the sending process with psutil)

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def client_stayed(self) -> float | None:
        """Seconds from the request's arrival until the client hung up (None: it did not)."""
        return self.hung_up - self.arrived if self.hung_up else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, receiver: Receiver):
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _Handler, bind_and_activate=False)

    def server_bind(self):
        # HTTPServer.server_bind also looks up the host's FQDN: not needed on 127.0.0.1.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def process_request(self, request, client_address):
        self.receiver._connected(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.receiver._disconnected(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # a client that hung up (killed worker, timeout) is part of the tests, not noise to print


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args):  # keep test output readable
        pass

    def do_POST(self):
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            arrived=time.monotonic(),
            client_port=self.client_address[1],
        )
        receiver._arrived(request)
        try:
            reply = receiver.replies.get(self.path.split("?", 1)[0], receiver.default)
            if callable(reply):
                reply = reply(request)
            if reply.hold is not None:
                reply.hold.wait(reply.hold_max)
            if reply.delay:
                receiver._stopping.wait(reply.delay)
            try:
                if reply.silent:
                    self._wait_for_hang_up(request)
                elif reply.trickle_every:
                    self._trickle(reply, request)
                else:
                    self._answer(reply, request)
            except OSError:
                request.hung_up = time.monotonic()  # the client gave up: nothing more to answer to
                self.close_connection = True
        finally:
            request.answered = time.monotonic()
            receiver._answered(request)

    do_PUT = do_POST

    def _answer(self, reply: Reply, request: Request) -> None:
        self.send_response(reply.status, reply.reason)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(reply.body_size or len(reply.body)))
        if reply.body_size:
            # A small send buffer, so "bytes sent" stays close to "bytes the client read".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
            self.end_headers()
            self._stream(reply.body_size, request)
        else:
            self.end_headers()
            self.wfile.write(reply.body)

    def _stream(self, size: int, request: Request) -> None:
        chunk = b"x" * (16 * 1024)
        stopping = self.server.receiver._stopping
        while request.bytes_sent < size and not stopping.is_set():
            request.bytes_sent += self.connection.send(chunk[: size - request.bytes_sent])

    def _wait_for_hang_up(self, request: Request) -> None:
        self.close_connection = True
        receiver = self.server.receiver
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            selector.register(receiver._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is receiver._wake_r:
                        return  # the receiver is stopping
                    if self.connection.recv(1) == b"":
                        request.hung_up = time.monotonic()
                        return

    def _trickle(self, reply: Reply, request: Request) -> None:
        self.close_connection = True
        stopping = self.server.receiver._stopping
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: ")
        while time.monotonic() - request.arrived < reply.trickle_for and not stopping.wait(reply.trickle_every):
            self.wfile.write(b"a")
        self.wfile.write(b"\r\nContent-Length: 2\r\n\r\nok")


class Receiver:
    """``with Receiver() as r: r.url("/hook")`` ... ``r.requests``; ``r.reply("/hook", Reply(503))``."""

    def __init__(self, default: Reply | None = None, *, ssl_context: ssl.SSLContext | None = None):
        self.default = default or Reply()
        self.replies: dict[str, Reply | Callable[[Request], Reply]] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self.connections = 0  # TCP connections accepted
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._server = _Server(self)
        self._server.server_bind()
        self.port = self._server.server_address[1]
        self.scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook", *, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def reply(self, path: str, reply: Reply | Callable[[Request], Reply]) -> None:
        self.replies[path] = reply

    # -- what was seen -----------------------------------------------------
    def on(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def ids(self, path: str | None = None) -> Counter:
        """How many times each ``webhook-id`` arrived (on ``path``, or anywhere)."""
        with self._lock:
            return Counter(r.webhook_id for r in self.requests if path is None or r.path.split("?", 1)[0] == path)

    def duplicates(self, path: str | None = None) -> int:
        """Requests beyond the first for each webhook id (at-least-once allows some)."""
        return sum(n - 1 for n in self.ids(path).values())

    def overlapping_ids(self) -> list[str]:
        """Webhook ids that had two requests in flight at the same moment on one path (receiver's clock).

        Keyed by path too: one event goes to several channels with the same webhook-id.
        """
        with self._lock:
            spans: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for r in self.requests:
                spans.setdefault((r.path, r.webhook_id), []).append((r.arrived, r.answered or float("inf")))
        overlaps = []
        for (_, webhook_id), intervals in spans.items():
            intervals.sort()
            if any(start < end for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False)):
                overlaps.append(webhook_id)
        return overlaps

    # -- life cycle --------------------------------------------------------
    def start(self) -> Receiver:
        """Listen (until now, connections were refused) and serve from a thread."""
        self._server.server_activate()
        self._thread = threading.Thread(target=self._serve, name=f"receiver-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            still_open = list(self._open)
        for conn in still_open:  # unblock handlers waiting on a client (keep-alive, silent, streaming)
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _serve(self) -> None:
        # serve_forever() would notice stop() only at its next poll (0.5 s by default): wait on a wake-up socket too.
        with selectors.DefaultSelector() as selector:
            selector.register(self._server, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._server and not self._stopping.is_set():
                        self._server._handle_request_noblock()

    # -- bookkeeping (called by the server and its handlers) ---------------
    def _connected(self, conn: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._open.add(conn)

    def _disconnected(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)

    def _arrived(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1

    def _answered(self, request: Request) -> None:
        with self._lock:
            self.in_flight -= 1
