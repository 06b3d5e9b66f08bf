"""The benchmarks' receiving end: a bare ASGI app under uvicorn, in its own process.

It answers 200 to every POST and records when each one arrived (wall clock, so the
benchmark process can compare it with the time it committed an ``emit``), keyed by
the ``webhook-id`` header. ``POST /slow/<seconds>/...`` waits that long before
answering: the slow endpoint of the slow-endpoint scenario.

Control routes (GET, so no POST is ever mistaken for one):
``/_stats`` counts, ``/_arrivals`` every recorded arrival, ``/_reset`` forgets all.

Run: ``python bench/receiver.py`` binds 127.0.0.1 on an ephemeral port, prints
``PORT <n>`` on stdout, then serves until terminated.
"""

import asyncio
import json
import os
import socket
import sys
import time

import uvicorn

_arrivals: list[tuple[float, str, str]] = []  # (wall time, webhook-id, path)
_count = 0


def _reset() -> None:
    global _count
    _arrivals.clear()
    _count = 0


async def _drain_body(receive) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)


async def _answer(send, status: int, body: bytes = b"", content_type: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _json(data) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


async def app(scope, receive, send):
    global _count
    path = scope["path"]
    if scope["method"] == "POST":
        await _drain_body(receive)
        now = time.time()
        if path.startswith("/slow/"):
            # Delayed answer; the arrival is still the moment the request came in.
            await asyncio.sleep(float(path.split("/")[2]))
        webhook_id = ""
        for name, value in scope["headers"]:
            if name == b"webhook-id":
                webhook_id = value.decode("latin-1")
                break
        _count += 1
        _arrivals.append((now, webhook_id, path))
        await _answer(send, 200, b"ok")
        return
    await _drain_body(receive)
    if path == "/_stats":
        first = _arrivals[0][0] if _arrivals else None
        last = _arrivals[-1][0] if _arrivals else None
        await _answer(
            send, 200, _json({"count": _count, "first": first, "last": last, "pid": os.getpid()}), b"application/json"
        )
    elif path == "/_arrivals":
        await _answer(send, 200, _json(_arrivals), b"application/json")
    elif path == "/_reset":
        _reset()
        await _answer(send, 200, b"reset")
    else:
        await _answer(send, 405, b"POST only")


def main() -> None:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only
    # when the listening socket says it is TCP; without it every answer waits for
    # the client's delayed ACK (~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", backlog=2048, timeout_keep_alive=75
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
