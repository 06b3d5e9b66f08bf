"""The receiving end of the robustness scenarios: a threaded HTTP server in the scenario's process.

Unlike ``bench/receiver.py`` (one answer, as fast as it can) it plays the endpoints of the
wild, chosen by the path's first segment, and logs every request with its ``webhook-id``,
its arrival and end (wall clock) and the status it sent (None: no answer went out):

- ``/healthy/...``: 200 at once.
- ``/slow/<seconds>/...``: 200 after that many seconds.
- ``/dead/...``: reads the request and never answers; ends when the client hangs up.
- ``/flaky/...``: 503 half the time (a fair coin per request), else 200.

Stdlib only, no Django: the classifier's tests start it without a database.
"""

from __future__ import annotations

import random
import select
import socketserver
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Logged:
    webhook_id: str
    path: str
    arrived: float
    ended: float | None = None
    status: int | None = None

    @property
    def channel(self) -> str:
        """The path without its query: one channel's endpoint (each channel has a path of its own)."""
        return self.path.split("?", 1)[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # no FQDN look-up on 127.0.0.1
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # clients hang up (timeouts, a killed worker): part of the scenario


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        entry = Logged(self.headers.get("webhook-id", ""), self.path, time.time())
        receiver: RobustReceiver = self.server.receiver
        receiver._log(entry)
        kind = self.path.split("/")[1]
        try:
            if kind == "dead":
                self._wait_for_hang_up(receiver)
                return
            if kind == "slow":
                receiver.stopping.wait(float(self.path.split("/")[2]))
            status = 503 if kind == "flaky" and receiver.coin() else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            self.wfile.flush()
            entry.status = status
        except OSError:
            self.close_connection = True
        finally:
            entry.ended = time.time()

    def _wait_for_hang_up(self, receiver: RobustReceiver) -> None:
        self.close_connection = True
        while not receiver.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.5)
            if readable and self.connection.recv(1) == b"":
                return


class RobustReceiver:
    """``with RobustReceiver() as r: r.url("/dead/3/")`` ... ``r.log()``."""

    def __init__(self, *, seed: int = 16):
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._entries: list[Logged] = []
        self._random = random.Random(seed)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def coin(self) -> bool:
        with self._lock:
            return self._random.random() < 0.5

    def log(self, prefix: str = "") -> list[Logged]:
        with self._lock:
            return [e for e in self._entries if e.path.startswith(prefix)]

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def _log(self, entry: Logged) -> None:
        with self._lock:
            self._entries.append(entry)

    def __enter__(self) -> RobustReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
