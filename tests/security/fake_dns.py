"""A fake resolver for names we cannot register: the one thing these tests mock.

DNS cannot be controlled from a test, so ``socket.getaddrinfo`` is patched for a
few made-up names (``*.rebind.test``); every other lookup, including IP literals the
HTTP client resolves before it connects, goes to the real resolver.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from contextlib import contextmanager

_real_getaddrinfo = socket.getaddrinfo


def _info(address: str, port):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


class FakeDNS:
    """Maps names to the address list a callable returns at the time of the lookup."""

    def __init__(self):
        self._answers: dict[str, Callable[[], list[str]]] = {}
        self.lookups: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    def set(self, name: str, answer: list[str] | Callable[[], list[str]]):
        self._answers[name.lower()] = answer if callable(answer) else (lambda: list(answer))

    def getaddrinfo(self, host, port, *args, **kwargs):
        key = host.decode() if isinstance(host, bytes) else host
        key = (key or "").lower().rstrip(".")
        if key in self._answers:
            addresses = self._answers[key]()
            with self._lock:
                self.lookups.append((key, addresses))
            if not addresses:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [_info(a, port) for a in addresses]
        return _real_getaddrinfo(host, port, *args, **kwargs)


@contextmanager
def fake_dns(monkeypatch):
    dns = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    yield dns


class ConnectLog:
    """Records every outgoing TCP connect; refuses any that is not to loopback.

    Used where a wrong implementation would reach for a real public address: the
    connection is refused locally (no packet leaves the machine) and the address it
    wanted is recorded, so the test can say where the sender tried to go.
    """

    def __init__(self):
        self.addresses: list[tuple] = []
        self._real_connect = socket.socket.connect

    def install(self, monkeypatch):
        log = self

        def connect(sock, address):
            log.addresses.append(address)
            host = address[0] if isinstance(address, tuple) else address
            if isinstance(host, str) and (host.startswith("127.") or host == "::1" or "/" in host):
                return log._real_connect(sock, address)
            raise ConnectionRefusedError(111, f"refused by the test: {host}")

        monkeypatch.setattr(socket.socket, "connect", connect)
        return self
