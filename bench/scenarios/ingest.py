"""How many events per second the API ingests under gunicorn, over a trivial view in the same server."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from bench.harness import PYTHON, ROOT, Receiver, ScenarioError, poll, rate, stop_process
from bench.scenarios import scenario
from bench.scenarios.helpers import order_payload, postback_channel, subscribe
from events.models import Event


@scenario
def ingest(cfg) -> dict:
    """POST /api/v1/events/ under gunicorn with a concurrent client, over a trivial DRF view in the same server."""
    receiver = Receiver(None, cfg["receiver"])
    subscribe(key="order.completed", channel=postback_channel(name="ingest", url=f"{receiver.url}/ingest"))
    user = get_user_model().objects.create_superuser("bench", "bench@example.net", "bench-password")
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    log = Path(cfg["log_dir"]) / f"{cfg['name']}-gunicorn.log"
    server, base = _start_gunicorn(workers=cfg["workers"], log=log)
    counter = iter(range(10**9))

    def body():
        i = next(counter)
        return {"type": "order.completed", "source": "shop", "payload": order_payload(i), "order_ref": f"B-{i}"}

    try:
        poll(lambda: _get_ok(f"{base}/bench/trivial/"), timeout=60, what="gunicorn")
        for path in ("/bench/trivial/", "/api/v1/events/"):  # warm every worker
            _load(f"{base}{path}", headers, body, threads=cfg["threads"], seconds=1)
        rounds = {"/bench/trivial/": [], "/api/v1/events/": []}
        for _ in range(cfg["rounds"]):  # interleaved, so drift in the machine's load hits both alike
            for path in rounds:
                rounds[path].append(
                    _load(f"{base}{path}", headers, body, threads=cfg["threads"], seconds=cfg["seconds"])
                )
    finally:
        stop_process(server)

    trivial, real = rate(rounds["/bench/trivial/"]), rate(rounds["/api/v1/events/"])
    errors = {p: sum(r["errors"] for r in rs) for p, rs in rounds.items()}
    if any(errors.values()):
        raise ScenarioError(f"non-2xx answers under load: {errors}; see {log}")
    return {
        "ingest_per_s": real,
        "trivial_per_s": trivial,
        "ratio_ingest_vs_trivial": real / trivial,
        "details": {
            "gunicorn_workers": cfg["workers"],
            "client_threads": cfg["threads"],
            "rounds": cfg["rounds"],
            "seconds_per_round": cfg["seconds"],
        },
    }


@scenario
def batch_ingest(cfg) -> dict:
    """POST /api/v1/events/batch/ (``batch`` events a call) under gunicorn with the ``ingest`` client,
    interleaved with rounds of POST /api/v1/events/ in the same server: events per second of each."""
    receiver = Receiver(None, cfg["receiver"])
    subscribe(key="order.completed", channel=postback_channel(name="ingest", url=f"{receiver.url}/ingest"))
    user = get_user_model().objects.create_superuser("bench", "bench@example.net", "bench-password")
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    log = Path(cfg["log_dir"]) / f"{cfg['name']}-gunicorn.log"
    server, base = _start_gunicorn(workers=cfg["workers"], log=log)
    size = cfg["batch"]
    counter = iter(range(10**9))

    def event():
        i = next(counter)
        return {"type": "order.completed", "source": "shop", "payload": order_payload(i), "order_ref": f"B-{i}"}

    bodies = {"/api/v1/events/": event, "/api/v1/events/batch/": lambda: {"events": [event() for _ in range(size)]}}
    try:
        poll(lambda: _get_ok(f"{base}/bench/trivial/"), timeout=60, what="gunicorn")
        for path, body in bodies.items():  # warm every worker
            _load(f"{base}{path}", headers, body, threads=cfg["threads"], seconds=1)
        rounds = {path: [] for path in bodies}
        for _ in range(cfg["rounds"]):  # interleaved, so drift in the machine's load hits both alike
            for path, body in bodies.items():
                rounds[path].append(
                    _load(f"{base}{path}", headers, body, threads=cfg["threads"], seconds=cfg["seconds"])
                )
    finally:
        stop_process(server)
    errors = {p: sum(r["errors"] for r in rs) for p, rs in rounds.items()}
    if any(errors.values()):
        raise ScenarioError(f"non-2xx answers under load: {errors}; see {log}")
    generated = next(counter)  # every event a body carried, warm-up included
    stored = Event.objects.count()
    if stored != generated:  # a batch answers 200 even when some of its items failed
        raise ScenarioError(f"{generated} events posted but {stored} stored; see {log}")
    single = rate(rounds["/api/v1/events/"])
    batched = rate(rounds["/api/v1/events/batch/"], per_call=size)
    calls = sum(r["ok"] for r in rounds["/api/v1/events/batch/"])
    return {
        "batch_ingest_events_per_s": batched,
        "ratio_batch_vs_ingest": batched / single,
        "details": {
            "events_per_call": size,
            "batch_calls": calls,
            "batch_call_ms_mean": round(
                cfg["threads"] * sum(r["seconds"] for r in rounds["/api/v1/events/batch/"]) / max(calls, 1) * 1000, 1
            ),
            "ingest_per_s_same_run": round(single, 1),
            "gunicorn_workers": cfg["workers"],
            "client_threads": cfg["threads"],
            "rounds": cfg["rounds"],
            "seconds_per_round": cfg["seconds"],
        },
    }


def _start_gunicorn(*, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the project (bench URLs) on a free port of 127.0.0.1; the process and its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "webhooks_project.wsgi:application",
            "--bind",
            f"fd://{sock.fileno()}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        pass_fds=(sock.fileno(),),
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    sock.close()
    return server, f"http://127.0.0.1:{port}"


def _get_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code in (401, 403, 405)  # up and answering
    except requests.RequestException:
        return False


def _load(url: str, headers: dict, body, *, threads: int, seconds: float) -> dict:
    """``threads`` clients, each a keep-alive session posting in a loop for ``seconds``."""
    ok, errors = Counter(), Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(n: int):
        session = requests.Session()
        mine_ok = mine_err = 0
        while time.perf_counter() < deadline:
            with lock:
                data = body()
            response = session.post(url, json=data, headers=headers, timeout=30)
            if 200 <= response.status_code < 300:
                mine_ok += 1
            else:
                mine_err += 1
        ok[n], errors[n] = mine_ok, mine_err

    began = time.perf_counter()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {"ok": sum(ok.values()), "errors": sum(errors.values()), "seconds": time.perf_counter() - began}
