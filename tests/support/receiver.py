"""A real threaded HTTP receiver on 127.0.0.1 (an ephemeral port) for delivery tests.

Every request is recorded (path, headers, body, when it arrived and was answered).
What it answers is configurable per path: status, headers (e.g. ``Retry-After``), body,
a delay before answering, or a ``threading.Event`` to hold the answer until released.
"""

from __future__ import annotations

import json
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
    delay: float = 0.0  # seconds to sleep before answering
    hold: threading.Event | None = None  # answer only once this is set (or after hold_max seconds)
    hold_max: float = 60.0


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    arrived: float
    answered: float = 0.0

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # a client that hung up (killed worker, timeout) is part of the tests, not noise to print


class Receiver:
    """``with Receiver() as r: r.url("/hook")`` ... ``r.requests``."""

    def __init__(self, default: Reply | None = None):
        self.default = default or Reply()
        self.replies: dict[str, Reply | Callable[[Request], Reply]] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    arrived=time.monotonic(),
                )
                with receiver._lock:
                    receiver.requests.append(request)
                    receiver.in_flight += 1
                try:
                    reply = receiver.replies.get(self.path.split("?", 1)[0], receiver.default)
                    if callable(reply):
                        reply = reply(request)
                    if reply.hold is not None:
                        reply.hold.wait(reply.hold_max)
                    if reply.delay:
                        time.sleep(reply.delay)
                    try:
                        self.send_response(reply.status)
                        for name, value in reply.headers.items():
                            self.send_header(name, value)
                        self.send_header("Content-Length", str(len(reply.body)))
                        self.end_headers()
                        self.wfile.write(reply.body)
                    except OSError:
                        pass  # the client gave up (timeout): nothing to answer to
                finally:
                    request.answered = time.monotonic()
                    with receiver._lock:
                        receiver.in_flight -= 1

            do_PUT = do_POST

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, path: str, reply: Reply | Callable[[Request], Reply]) -> None:
        self.replies[path] = reply

    def on(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def ids(self, path: str | None = None) -> Counter:
        """How many times each ``webhook-id`` arrived (on ``path``, or anywhere)."""
        with self._lock:
            return Counter(r.webhook_id for r in self.requests if path is None or r.path.split("?", 1)[0] == path)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
