"""Django-side helpers the scenarios share: channels, events, the cluster's log, waiting for postbacks.

Imported only once Django is set up (``bench/scenarios/__main__.py``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from django.db import connection, transaction

from bench.harness import Receiver, ScenarioError, poll
from channels.kinds import ChannelKind
from channels.models import Channel
from channels.services import attach_channel
from deliveries.fanout import emit_event
from deliveries.models import Delivery
from events.catalogue.examples import ORDER
from events.models import EventType
from events.services import emit, set_event_type_enabled

# The body of a real postback of the flagship event type, for the raw loop.
RAW_BODY = json.dumps(
    {
        "eventId": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "eventType": "order.completed",
        "occurredAt": "2026-11-23T10:15:00Z",
        "source": "shop",
        "triggerUser": None,
        "webhookConfig": 1,
        "retryCount": 0,
        "payload": {"order": ORDER},
    },
    separators=(",", ":"),
).encode()


def postback_channel(*, name: str, url: str, timeout: int | None = None):
    extra = {"timeout": timeout} if timeout else {}
    return Channel.objects.create(name=name, kind=ChannelKind.POSTBACK, url=url, **extra)


def subscribe(*, key: str, channel):
    event_type = EventType.objects.get(key=key)
    if not event_type.enabled:
        set_event_type_enabled(event_type=event_type, enabled=True)
    return attach_channel(event_type=event_type, channel=channel, sources=["admin", "shop", "funnel"])


def order_payload(i: int) -> dict:
    return {"order": {**ORDER, "id": f"B-{i}", "number": str(i)}}


def emit_order(i: int, *, event_id=None, key: str = "order.completed"):
    if key == "order.completed":
        return emit(key, source="shop", payload=order_payload(i), order_ref=f"B-{i}", event_id=event_id)
    return emit(
        key, source="shop", payload={"contact": {"id": f"L-{i}", "email": f"lead{i}@example.net"}}, event_id=event_id
    )


def emit_backlog(n: int, *, batch: int = 500, start: int = 0) -> float:
    """Commit ``n`` events in transactions of ``batch``; returns the seconds it took."""
    began = time.perf_counter()
    for first in range(start, start + n, batch):
        with transaction.atomic():
            for i in range(first, min(first + batch, start + n)):
                emit_order(i)
    return time.perf_counter() - began


def emit_spread(n: int, channel_ids: list[int], *, batch: int = 500) -> float:
    """Commit ``n`` events (500 per transaction), each delivered to one of ``channel_ids`` in turn
    (the others are left out with ``emit_event``'s ``except_channel_ids``); returns the seconds it took."""
    began = time.perf_counter()
    others = {c: tuple(x for x in channel_ids if x != c) for c in channel_ids}
    for first in range(0, n, batch):
        with transaction.atomic():
            for i in range(first, min(first + batch, n)):
                emit_event(
                    "order.completed",
                    source="shop",
                    payload=order_payload(i),
                    order_ref=f"B-{i}",
                    except_channel_ids=others[channel_ids[i % len(channel_ids)]],
                )
    return time.perf_counter() - began


def delivery_statuses() -> dict:
    return dict(Counter(Delivery.objects.values_list("status", flat=True)))


def qcluster_log(cfg) -> Path:
    return Path(cfg["log_dir"]) / f"{cfg['name']}-qcluster.log"


def wait_for_count(receiver: Receiver, n: int, *, timeout: float, interval: float | None = None) -> dict:
    """Poll until ``n`` posts arrived. nginx's ``last`` is the poll that saw the last post, so it is polled
    every 20 ms (at most 20 ms late); the bench receiver's arrivals are exact, polled every 100 ms."""
    if interval is None:
        interval = 0.02 if receiver.kind == "nginx" else 0.1

    def enough():
        stats = receiver.stats()
        return stats if stats["count"] >= n else None

    return poll(enough, timeout=timeout, interval=interval, what=f"{n} postbacks at the receiver")


def warm_up(
    receiver: Receiver, *, key: str = "order.completed", count: int = 5, per_event: int = 1, timeout: float = 120
) -> None:
    """Emit a few events and wait for all their postbacks: the cluster is up and its workers
    have imported everything, and nothing of the warm-up arrives after the reset."""
    receiver.reset()
    for i in range(count):
        with transaction.atomic():
            emit_order(10_000_000 + i, key=key)
    wait_for_count(receiver, count * per_event, timeout=timeout)
    receiver.reset()


def paced_emits(
    *, plan: list[tuple[float, str]], commits: dict, measure: str = "order.completed", threads: int = 2
) -> float:
    """Emit ``plan`` = [(seconds after start, event type key)], one event per transaction,
    recording the commit time (wall clock) of each event of type ``measure`` in ``commits``;
    returns the achieved rate. Emitters take turns in ``threads`` threads (each with its own
    database connection), so one slow commit does not delay the schedule of the next."""
    began = time.perf_counter()
    errors = []

    def emitter(slots):
        try:
            for i, (offset, key) in slots:
                delay = began + offset - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # pacing the load generator, not waiting for a result
                event_id = uuid.uuid4()
                with transaction.atomic():
                    if key == measure:
                        # Registered before emit's own on_commit, so it runs first: the moment of commit.
                        transaction.on_commit(lambda eid=str(event_id): commits.__setitem__(eid, time.time()))
                    emit_order(20_000_000 + i, event_id=event_id, key=key)
        except Exception as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    slots = list(enumerate(plan))
    workers = [threading.Thread(target=emitter, args=(slots[n::threads],)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return len(plan) / max(time.perf_counter() - began, 1e-9)


def latencies_ms(commits: dict, arrivals: list, *, path_prefix: str | None = None) -> tuple[list[float], int]:
    first_arrival = {}
    for at, webhook_id, path in arrivals:
        if path_prefix and not path.startswith(path_prefix):
            continue
        first_arrival.setdefault(webhook_id, at)
    values = [(first_arrival[eid] - at) * 1000 for eid, at in commits.items() if eid in first_arrival]
    return values, len(commits) - len(values)


def raw_loop(receiver: Receiver, *, seconds: float) -> tuple[int, float]:
    url = f"{receiver.url}/raw"
    headers = {"Content-Type": "application/json", "webhook-id": "msg_raw"}
    session = requests.Session()
    for _ in range(200):  # warm the connection and the receiver
        session.post(url, data=RAW_BODY, headers=headers, timeout=10)
    receiver.reset()
    count, began = 0, time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        session.post(url, data=RAW_BODY, headers=headers, timeout=10).raise_for_status()
        count += 1
    elapsed = time.perf_counter() - began
    received = receiver.count()
    if received != count:
        raise ScenarioError(f"sent {count} posts but the receiver counted {received}")
    receiver.reset()
    return count, elapsed
