"""How many deliveries per second: the raw HTTP limit, django-q2's own ceiling, end to end, fan-out."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
from django.db import connection, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.tasks import async_task

from bench.harness import poll, receiver_client, shares, start_qcluster, stop_process
from bench.scenarios import scenario
from bench.scenarios.helpers import (
    delivery_statuses,
    emit_backlog,
    emit_order,
    emit_spread,
    postback_channel,
    qcluster_log,
    raw_loop,
    subscribe,
    wait_for_count,
    warm_up,
)


@scenario
def raw_session(cfg) -> dict:
    """The limit: one bare loop of requests.Session().post of the same body to the same receiver."""
    receiver = receiver_client(cfg.get("receiver_kind", "bench"), cfg["receiver"])
    count, elapsed = raw_loop(receiver, seconds=cfg["seconds"])
    return {"raw_session_posts_per_s": count / elapsed, "details": {"posts": count, "seconds": round(elapsed, 2)}}


@scenario
def q2_noop(cfg) -> dict:
    """django-q2 (save_limit=-1) draining one no-op task per delivery, from qcluster start."""
    assert Conf.SAVE_LIMIT == -1, Conf.SAVE_LIMIT
    n = cfg["n"]
    done_file = Path(cfg["log_dir"]) / f"{cfg['name']}.done"
    done_file.unlink(missing_ok=True)
    broker = get_broker()
    began = time.perf_counter()
    # async_task signs and packs each job as usual; the packs are then written to the
    # broker in bulk, so filling the queue does not take longer than draining it.
    collector = _CollectingBroker()
    for i in range(n):
        async_task("bench.tasks.noop", i, broker=collector)
    async_task("bench.tasks.mark_done", str(done_file), broker=collector)  # last, the brokers are FIFO
    if Conf.ORM:
        now = timezone.now()
        OrmQ.objects.bulk_create(
            [OrmQ(key=broker.list_key, payload=p, lock=now) for p in collector.packs], batch_size=1000
        )
    else:
        for first in range(0, len(collector.packs), 1000):
            broker.connection.rpush(broker.list_key, *collector.packs[first : first + 1000])
    enqueue_s = time.perf_counter() - began

    start = time.time()
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    try:
        if Conf.ORM:
            # The ORM broker deletes a job only once its result was handled: an empty table is the end.
            poll(
                lambda: not OrmQ.objects.filter(key=broker.list_key).exists(),
                timeout=cfg["timeout"],
                interval=0.05,
                what="the ORM queue to drain",
            )
            end = time.time()
        else:
            # Redis hands jobs out in order; the last one writes the time it ran.
            poll(done_file.exists, timeout=cfg["timeout"], interval=0.05, what="the Redis queue to drain")
            end = poll(lambda: _read_float(done_file), timeout=5, what="the end mark")
    finally:
        stop_process(cluster)
    key = "q2_noop_sqlite_per_s" if Conf.ORM else "q2_noop_pg_redis_per_s"
    return {
        key: (n + 1) / (end - start),
        "details": {"tasks": n + 1, "seconds": round(end - start, 2), "enqueue_per_s": round(n / enqueue_s)},
    }


class _CollectingBroker:
    """Stands in for the broker in ``async_task(broker=...)``: keeps the signed packs."""

    list_key = "collected"

    def __init__(self):
        self.packs = []

    def enqueue(self, pack):
        self.packs.append(pack)
        return len(self.packs)


def _read_float(path: Path):
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


@scenario
def e2e(cfg) -> dict:
    """N events already committed, one subscription each: deliveries/s from qcluster start to the last arrival."""
    receiver = receiver_client(cfg.get("receiver_kind", "bench"), cfg["receiver"])
    n = cfg["n"]
    subscribe(key="order.completed", channel=postback_channel(name="e2e", url=f"{receiver.url}/e2e"))
    emit_s = emit_backlog(n)
    # The limit again, right before: the machine is shared, and its load drifts within a run.
    raw_count, raw_elapsed = raw_loop(receiver, seconds=3)
    raw_rate = raw_count / raw_elapsed
    receiver.reset()
    start = time.time()
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    try:
        stats = wait_for_count(receiver, n, timeout=cfg["timeout"])
    finally:
        stop_process(cluster)
    elapsed = stats["last"] - start
    received, unique = _received_and_unique(receiver)
    suffix = cfg["suffix"]
    return {
        f"e2e_{suffix}_per_s": n / elapsed,
        "details": {
            "events": n,
            "seconds": round(elapsed, 2),
            "first_arrival_after_s": round(stats["first"] - start, 2),
            "emit_per_s": round(n / emit_s),
            "received": received,
            "duplicates": received - (unique if unique is not None else n),
            "raw_posts_per_s_just_before": round(raw_rate),
            "ratio_vs_raw_just_before": round(n / elapsed / raw_rate, 3),
            "statuses": delivery_statuses(),
        },
    }


@scenario
def e2e_live(cfg) -> dict:
    """With the cluster running, N events emitted by ``threads`` threads as fast as they go (one per
    transaction, one subscription): deliveries/s from the first emit to the last arrival, emitting included."""
    receiver = receiver_client(cfg.get("receiver_kind", "bench"), cfg["receiver"])
    n, threads = cfg["n"], cfg["threads"]
    subscribe(key="order.completed", channel=postback_channel(name="e2e-live", url=f"{receiver.url}/e2e-live"))
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    errors, emitted_at = [], []

    def emitter(numbers):
        try:
            for i in numbers:
                with transaction.atomic():
                    emit_order(50_000_000 + i)
            emitted_at.append(time.time())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    try:
        warm_up(receiver)
        start = time.time()
        workers = [threading.Thread(target=emitter, args=(run,)) for run in shares(n, threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if errors:
            raise errors[0]
        emit_end = max(emitted_at)
        stats = wait_for_count(receiver, n, timeout=cfg["timeout"])
    finally:
        stop_process(cluster)
    elapsed = stats["last"] - start
    received, unique = _received_and_unique(receiver)
    return {
        "e2e_live_pg_redis_per_s": n / elapsed,
        "details": {
            "events": n,
            "emitting_threads": threads,
            "seconds": round(elapsed, 2),
            "emit_seconds": round(emit_end - start, 2),
            "emit_per_s": round(n / (emit_end - start)),
            "last_arrival_after_last_emit_s": round(stats["last"] - emit_end, 2),
            "received": received,
            "duplicates": received - (unique if unique is not None else n),
            "statuses": delivery_statuses(),
        },
    }


@scenario
def fanout(cfg) -> dict:
    """One event to 200 subscriptions, repeated: deliveries/s from the first commit to the last arrival."""
    receiver = receiver_client(cfg.get("receiver_kind", "bench"), cfg["receiver"])
    width, events = cfg["width"], cfg["events"]
    for i in range(width):
        subscribe(key="order.completed", channel=postback_channel(name=f"fanout-{i}", url=f"{receiver.url}/fanout/{i}"))
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    try:
        warm_up(receiver, count=1, per_event=width)
        start = time.time()
        emit_seconds = []
        for i in range(events):
            began = time.perf_counter()
            with transaction.atomic():
                emit_order(30_000_000 + i)
            emit_seconds.append(time.perf_counter() - began)
        stats = wait_for_count(receiver, width * events, timeout=cfg["timeout"])
    finally:
        stop_process(cluster)
    elapsed = stats["last"] - start
    received, unique = _received_and_unique(receiver, by_path=True)
    return {
        cfg["key"]: width * events / elapsed,
        "details": {
            "subscriptions": width,
            "events": events,
            "deliveries": width * events,
            "seconds": round(elapsed, 2),
            "emit_ms_median": round(statistics.median(emit_seconds) * 1000, 1),
            "duplicates": received - unique if unique is not None else received - width * events,
        },
    }


def _received_and_unique(receiver, *, by_path: bool = False) -> tuple[int, int | None]:
    """POSTs received, and distinct deliveries among them (None from nginx, which keeps no arrivals:
    then every POST beyond one per delivery is a duplicate)."""
    if receiver.kind == "nginx":
        return receiver.count(), None
    arrivals = receiver.arrivals()
    return len(arrivals), len({(a[1], a[2]) if by_path else a[1] for a in arrivals})


@scenario
def latency100(cfg) -> dict:
    """N events spread evenly over 50 channels whose endpoints answer after 100 ms, committed before
    the cluster starts: deliveries/s from qcluster start to the last answer. Like ``e2e``, at real latency."""
    receiver = receiver_client("bench", cfg["receiver"])  # the bench receiver: its /slow/ path delays
    n, delay, width = cfg["n"], cfg["delay_s"], cfg["channels"]
    channels = [postback_channel(name=f"lat100-{i}", url=f"{receiver.url}/slow/{delay}/c{i}") for i in range(width)]
    for channel in channels:
        subscribe(key="order.completed", channel=channel)
    emit_s = emit_spread(n, [c.pk for c in channels])
    receiver.reset()
    receiver_cpu = _cpu_seconds(receiver.stats()["pid"])
    start = time.time()
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    try:
        stats = wait_for_count(receiver, n, timeout=cfg["timeout"])
        cluster_cpu = _tree_cpu_seconds(cluster.pid)
    finally:
        stop_process(cluster)
    elapsed = stats["last"] + delay - start  # the last answer went out ``delay`` after its arrival
    receiver_cpu = _cpu_seconds(receiver.stats()["pid"]) - receiver_cpu
    arrivals = receiver.arrivals()
    per_channel = Counter(a[2].rsplit("/", 1)[-1] for a in arrivals)
    return {
        "latency100_per_s": n / elapsed,
        "details": {
            "events": n,
            "channels": width,
            "endpoint_delay_s": delay,
            "seconds": round(elapsed, 2),
            "first_arrival_after_s": round(stats["first"] - start, 2),
            "emit_per_s": round(n / emit_s),
            "received": len(arrivals),
            "duplicates": len(arrivals) - len({a[1] for a in arrivals}),
            "per_channel_min_max": [min(per_channel.values()), max(per_channel.values())],
            "in_flight_max": _max_overlap([a[0] for a in arrivals], delay),
            "in_flight_mean": round(n * delay / elapsed, 1),  # Little's law over the whole run
            "cpu_s_qcluster_tree": round(cluster_cpu, 1),
            "cpu_s_receiver": round(receiver_cpu, 1),
            "engine_bound": _engine_bound(width, delay),
            "statuses": delivery_statuses(),
        },
    }


def _engine_bound(channels: int, delay: float) -> dict:
    """What the engine's settings allow in theory: requests in flight and deliveries/s at ``delay``."""
    from django.conf import settings

    workers = settings.Q_CLUSTER["workers"]
    threads = settings.WEBHOOKS_SEND_THREADS
    cap = settings.WEBHOOKS_CHANNEL_MAX_IN_FLIGHT
    per_engine_channel = max(1, threads // 4)  # Dispatcher.channel_thread_limit
    in_flight = min(workers * threads, channels * min(cap, workers * per_engine_channel))
    return {
        "workers": workers,
        "send_threads": threads,
        "channel_cap": cap,
        "in_flight": in_flight,
        "per_s": round(in_flight / delay),
    }


def _max_overlap(arrivals: list[float], delay: float) -> int:
    """Most requests open at once, each open from its arrival for ``delay`` seconds."""
    events = sorted([(t, 1) for t in arrivals] + [(t + delay, -1) for t in arrivals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _tree_cpu_seconds(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += _cpu_seconds(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return total
