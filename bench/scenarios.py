"""The scenarios. Each runs in a subprocess of its own:

    python -m bench.scenarios NAME '{"config": ...}'

with DATABASE_URL / REDIS_URL / Q_CLUSTER_NAME set by bench/run.py, and prints its
figures as the last line of stdout: ``RESULT {json}``. Time is measured with the wall
clock (``time.time()``) wherever it is compared with the receiver's, which is another
process on the same machine.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

from bench.harness import (
    PYTHON,
    ROOT,
    Receiver,
    ScenarioError,
    percentile,
    poll,
    start_qcluster,
    stop_process,
    tree_rss,
)

SCENARIOS = {}

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
        "payload": {
            "order": {
                "id": "A-1001",
                "number": "1001",
                "total": "49.90",
                "currency": "EUR",
                "funnel": None,
                "customer": {"id": "K1234", "email": "mail@example.net"},
                "items": [{"sku": "EBOOK-1", "name": "E-book", "quantity": 1, "price": "49.90"}],
            }
        },
    },
    separators=(",", ":"),
).encode()


def scenario(func):
    SCENARIOS[func.__name__] = func
    return func


# --- Django-side helpers --------------------------------------------------------------


def setup_django() -> None:
    import django

    django.setup()


def postback_channel(*, name: str, url: str, timeout: int | None = None):
    from channels.models import Channel, ChannelKind

    extra = {"timeout": timeout} if timeout else {}
    return Channel.objects.create(name=name, kind=ChannelKind.POSTBACK, url=url, **extra)


def subscribe(*, key: str, channel):
    from channels.services import attach_channel
    from events.models import EventType
    from events.services import set_event_type_enabled

    event_type = EventType.objects.get(key=key)
    if not event_type.enabled:
        set_event_type_enabled(event_type=event_type, enabled=True)
    return attach_channel(event_type=event_type, channel=channel, sources=["admin", "shop", "funnel"])


def order_payload(i: int) -> dict:
    from events.catalogue.examples import ORDER

    return {"order": {**ORDER, "id": f"B-{i}", "number": str(i)}}


def emit_order(i: int, *, event_id=None, key: str = "order.completed"):
    from events.services import emit

    if key == "order.completed":
        return emit(key, source="shop", payload=order_payload(i), order_ref=f"B-{i}", event_id=event_id)
    return emit(
        key, source="shop", payload={"contact": {"id": f"L-{i}", "email": f"lead{i}@example.net"}}, event_id=event_id
    )


def emit_backlog(n: int, *, batch: int = 500, start: int = 0) -> float:
    """Commit ``n`` events in transactions of ``batch``; returns the seconds it took."""
    from django.db import transaction

    began = time.perf_counter()
    for first in range(start, start + n, batch):
        with transaction.atomic():
            for i in range(first, min(first + batch, start + n)):
                emit_order(i)
    return time.perf_counter() - began


def delivery_statuses() -> dict:
    from deliveries.models import Delivery

    return dict(Counter(Delivery.objects.values_list("status", flat=True)))


def qcluster_log(cfg) -> Path:
    return Path(cfg["log_dir"]) / f"{cfg['name']}-qcluster.log"


def wait_for_count(receiver: Receiver, n: int, *, timeout: float, interval: float = 0.1) -> dict:
    def enough():
        stats = receiver.stats()
        return stats if stats["count"] >= n else None

    return poll(enough, timeout=timeout, interval=interval, what=f"{n} postbacks at the receiver")


def warm_up(
    receiver: Receiver, *, key: str = "order.completed", count: int = 5, per_event: int = 1, timeout: float = 120
) -> None:
    """Emit a few events and wait for all their postbacks: the cluster is up and its workers
    have imported everything, and nothing of the warm-up arrives after the reset."""
    from django.db import transaction

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
    from django.db import connection, transaction

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


# --- scenarios ----------------------------------------------------------------------------


@scenario
def raw_session(cfg) -> dict:
    """The limit: one bare loop of requests.Session().post of the same body to the same receiver."""
    receiver = Receiver(None, cfg["receiver"])
    count, elapsed = raw_loop(receiver, seconds=cfg["seconds"])
    return {"raw_session_posts_per_s": count / elapsed, "details": {"posts": count, "seconds": round(elapsed, 2)}}


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


@scenario
def q2_noop(cfg) -> dict:
    """django-q2 (save_limit=-1) draining one no-op task per delivery, from qcluster start."""
    setup_django()
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.tasks import async_task

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
        from django.utils import timezone

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
    setup_django()
    receiver = Receiver(None, cfg["receiver"])
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
        stats = wait_for_count(receiver, n, timeout=cfg["timeout"], interval=0.1)
    finally:
        stop_process(cluster)
    elapsed = stats["last"] - start
    arrivals = receiver.arrivals()
    unique = len({a[1] for a in arrivals})
    suffix = cfg["suffix"]
    return {
        f"e2e_{suffix}_per_s": n / elapsed,
        "details": {
            "events": n,
            "seconds": round(elapsed, 2),
            "first_arrival_after_s": round(stats["first"] - start, 2),
            "emit_per_s": round(n / emit_s),
            "received": len(arrivals),
            "duplicates": len(arrivals) - unique,
            "raw_posts_per_s_just_before": round(raw_rate),
            "ratio_vs_raw_just_before": round(n / elapsed / raw_rate, 3),
            "statuses": delivery_statuses(),
        },
    }


@scenario
def latency(cfg) -> dict:
    """Commit of emit to arrival, at a steady rate, with the cluster running."""
    setup_django()
    receiver = Receiver(None, cfg["receiver"])
    subscribe(key="order.completed", channel=postback_channel(name="latency", url=f"{receiver.url}/latency"))
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    try:
        warm_up(receiver)
        rate, seconds = cfg["rate"], cfg["seconds"]
        plan = [(i / rate, "order.completed") for i in range(int(rate * seconds))]
        commits: dict[str, float] = {}
        achieved = paced_emits(plan=plan, commits=commits)
        wait_for_count(receiver, len(plan), timeout=cfg["timeout"])
    finally:
        stop_process(cluster)
    values, missing = latencies_ms(commits, receiver.arrivals())
    suffix = cfg["suffix"]
    return {
        f"latency_p50_ms{suffix}": percentile(values, 50),
        f"latency_p99_ms{suffix}": percentile(values, 99),
        "details": {
            "events": len(plan),
            "target_rate": rate,
            "achieved_rate": round(achieved, 1),
            "max_ms": round(max(values), 1),
            "mean_ms": round(statistics.fmean(values), 1),
            "missing": missing,
        },
    }


@scenario
def fanout(cfg) -> dict:
    """One event to 200 subscriptions, repeated: deliveries/s from the first commit to the last arrival."""
    setup_django()
    from django.db import transaction

    receiver = Receiver(None, cfg["receiver"])
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
    arrivals = receiver.arrivals()
    return {
        cfg["key"]: width * events / elapsed,
        "details": {
            "subscriptions": width,
            "events": events,
            "deliveries": width * events,
            "seconds": round(elapsed, 2),
            "emit_ms_median": round(statistics.median(emit_seconds) * 1000, 1),
            "duplicates": len(arrivals) - len({(a[1], a[2]) for a in arrivals}),
        },
    }


@scenario
def slow_endpoint(cfg) -> dict:
    """A healthy endpoint's p99 while another endpoint sleeps past its timeout, over the same without it.

    The two conditions alternate (``rounds`` times each, ``seconds`` per phase) so that drift
    in the shared machine's load hits both alike; a phase starts only once the slow endpoint's
    deliveries of the previous one have ended, so no slow send leaks into a baseline phase.
    """
    setup_django()
    from deliveries.models import Delivery, DeliveryStatus

    receiver = Receiver(None, cfg["receiver"])
    subscribe(key="order.completed", channel=postback_channel(name="healthy", url=f"{receiver.url}/healthy"))
    slow_url = f"{receiver.url}/slow/{cfg['sleep_s']}/"
    slow_channel = postback_channel(name="slow", url=slow_url, timeout=cfg["timeout_s"])
    subscribe(key="contact.created", channel=slow_channel)
    rate, slow_rate, seconds = cfg["rate"], cfg["slow_rate"], cfg["seconds"]
    healthy_plan = [(i / rate, "order.completed") for i in range(int(rate * seconds))]
    slow_plan = [(i / slow_rate + 0.5 / slow_rate, "contact.created") for i in range(int(slow_rate * seconds))]
    values = {"without": [], "with": []}
    missing = 0
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    try:
        warm_up(receiver)
        for _ in range(cfg["rounds"]):
            for condition, plan in (("without", healthy_plan), ("with", sorted(healthy_plan + slow_plan))):
                receiver.reset()
                commits: dict[str, float] = {}
                paced_emits(plan=plan, commits=commits)

                def healthy_arrived():
                    return sum(1 for a in receiver.arrivals() if a[2].startswith("/healthy")) >= len(healthy_plan)

                poll(healthy_arrived, timeout=cfg["timeout"], interval=0.25, what="the healthy endpoint's postbacks")
                phase_values, phase_missing = latencies_ms(commits, receiver.arrivals(), path_prefix="/healthy")
                values[condition] += phase_values
                missing += phase_missing
                poll(
                    lambda: (
                        not Delivery.objects.filter(
                            channel=slow_channel, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
                        ).exists()
                    ),
                    timeout=cfg["timeout"],
                    interval=0.25,
                    what="the slow endpoint's deliveries to end",
                )
        slow_outcomes = dict(
            Counter(Delivery.objects.filter(channel=slow_channel).values_list("last_error", flat=True))
        )
    finally:
        stop_process(cluster)
    base_p99, slow_p99 = percentile(values["without"], 99), percentile(values["with"], 99)
    return {
        "slow_endpoint_p99_ratio": slow_p99 / base_p99,
        "details": {
            "healthy_rate": rate,
            "slow_rate": slow_rate,
            "seconds_per_phase": seconds,
            "rounds": cfg["rounds"],
            "slow_endpoint": f"answers after {cfg['sleep_s']} s, channel timeout {cfg['timeout_s']} s",
            "healthy_events_per_condition": len(values["with"]),
            "p99_ms_without_slow": round(base_p99, 1),
            "p99_ms_with_slow": round(slow_p99, 1),
            "p50_ms_without_slow": round(percentile(values["without"], 50), 1),
            "p50_ms_with_slow": round(percentile(values["with"], 50), 1),
            "slow_endpoint_outcomes": slow_outcomes,
            "missing": missing,
        },
    }


@scenario
def ingest(cfg) -> dict:
    """POST /api/v1/events/ under gunicorn with a concurrent client, over a trivial DRF view in the same server."""
    setup_django()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    receiver = Receiver(None, cfg["receiver"])
    subscribe(key="order.completed", channel=postback_channel(name="ingest", url=f"{receiver.url}/ingest"))
    user = get_user_model().objects.create_superuser("bench", "bench@example.net", "bench-password")
    token = Token.objects.create(user=user).key

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    log = Path(cfg["log_dir"]) / f"{cfg['name']}-gunicorn.log"
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "webhooks_project.wsgi:application",
            "--bind",
            f"fd://{sock.fileno()}",
            "--workers",
            str(cfg["workers"]),
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
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Token {token}"}
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

    def rate(results):
        return sum(r["ok"] for r in results) / sum(r["seconds"] for r in results)

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


def create_pending(*, first: int, count: int, subscription) -> None:
    """The rows ``emit`` writes for ``count`` events of one subscription, inserted in bulk, then the
    same kick ``emit`` queues on commit: feeding 100,000 events this way leaves the CPU to the worker."""
    from django.db import transaction
    from django.utils import timezone

    from deliveries.engine.kick import queue_dispatch
    from deliveries.models import Delivery, DeliveryStatus
    from events.models import Event

    now = timezone.now()
    with transaction.atomic():
        events = Event.objects.bulk_create(
            Event(
                id=uuid.uuid4(),
                type_id=subscription.event_type_id,
                source="shop",
                occurred_at=now,
                payload=order_payload(i),
            )
            for i in range(first, first + count)
        )
        Delivery.objects.bulk_create(
            Delivery(
                event=event,
                subscription=subscription,
                channel_id=subscription.channel_id,
                event_type_id=subscription.event_type_id,
                source="shop",
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for event in events
        )
        transaction.on_commit(queue_dispatch)


@scenario
def worker_rss(cfg) -> dict:
    """Worker RSS after N deliveries over RSS after N/10, with events fed while the cluster drains them."""
    setup_django()
    receiver = Receiver(None, cfg["receiver"])
    subscription = subscribe(key="order.completed", channel=postback_channel(name="rss", url=f"{receiver.url}/rss"))
    small, large = cfg["small"], cfg["large"]
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    samples = []
    try:
        warm_up(receiver)
        created = 0
        rss_small = None
        next_sample = 0
        deadline = time.monotonic() + cfg["timeout"]
        while True:
            received = receiver.count()
            if rss_small is None and received >= small:
                rss_small = tree_rss(cluster.pid)
            if received >= next_sample:
                samples.append((received, sum(tree_rss(cluster.pid).values())))
                next_sample += large // 10
            if received >= large:
                break
            if time.monotonic() > deadline:
                raise ScenarioError(f"only {received} of {large} delivered in {cfg['timeout']} s")
            if created < large and created - received < cfg["backlog"]:
                batch = min(1000, large - created)
                create_pending(first=40_000_000 + created, count=batch, subscription=subscription)
                created += batch
            else:
                time.sleep(0.1)
        rss_large = tree_rss(cluster.pid)
    finally:
        stop_process(cluster)
    growth = sum(rss_large.values()) / sum(rss_small.values())
    mib = 2**20
    return {
        "worker_rss_growth": growth,
        "details": {
            "deliveries_small": small,
            "deliveries_large": large,
            "rss_mib_small": round(sum(rss_small.values()) / mib, 1),
            "rss_mib_large": round(sum(rss_large.values()) / mib, 1),
            "largest_process_mib_small": round(max(rss_small.values()) / mib, 1),
            "largest_process_mib_large": round(max(rss_large.values()) / mib, 1),
            "processes_small": len(rss_small),
            "processes_large": len(rss_large),
            "samples_received_vs_mib": [(r, round(b / mib, 1)) for r, b in samples],
        },
    }


def main() -> None:
    name, cfg = sys.argv[1], json.loads(sys.argv[2])
    if name == "admin_at_scale":
        from bench.admin_scale import admin_at_scale as func
    else:
        func = SCENARIOS[name]
    result = func(cfg)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
