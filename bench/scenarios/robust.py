"""Robustness: a healthy channel beside dead endpoints, and no double send through a worker's SIGKILL.

Both use ``bench/robust_receiver.py`` (in this process; it logs each request's start, end and
status) rather than the run's shared receiver, and judge what it logged with ``bench/robust_checks.py``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psutil
from django.db import connection
from django.utils import timezone

from bench.harness import ScenarioError, poll, start_qcluster, stop_process
from bench.robust_checks import double_sends, latency_summary, p99_ratio, unrecorded_requests
from bench.robust_receiver import RobustReceiver
from bench.scenarios import scenario
from bench.scenarios.helpers import emit_order, paced_emits, postback_channel, qcluster_log, subscribe
from deliveries.models import (
    Attempt,
    BreakerState,
    ChannelBreaker,
    Delivery,
    DeliveryStatus,
    ErrorKind,
    WorkerHeartbeat,
)

HEALTHY = "/healthy/h"
MEASURED = "order.completed"  # the healthy channel's event type
OTHER = "contact.created"  # the dead, slow and flaky channels' event type


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _warm_up(receiver: RobustReceiver, timeout: float) -> None:
    for i in range(5):
        emit_order(10_000_000 + i)
    poll(lambda: len(receiver.log(HEALTHY)) >= 5, timeout=timeout, what="the warm-up postbacks")
    receiver.reset()


def _healthy_latencies(receiver: RobustReceiver, commits: dict) -> tuple[list[float], int]:
    first = {}
    for r in receiver.log(HEALTHY):
        first.setdefault(r.webhook_id, r.arrived)
    values = [(first[eid] - at) * 1000 for eid, at in commits.items() if eid in first]
    return values, len(commits) - len(values)


def _healthy_phase(cfg, receiver: RobustReceiver, plan: list) -> dict:
    """Emit ``plan``, wait for the healthy channel's postbacks; its latencies and the load around it."""
    commits: dict[str, float] = {}
    before = _loadavg()
    achieved = paced_emits(plan=plan, commits=commits, measure=MEASURED)
    poll(
        lambda: len({r.webhook_id for r in receiver.log(HEALTHY)} & commits.keys()) >= len(commits),
        timeout=cfg["timeout"],
        interval=0.25,
        what="the healthy channel's postbacks",
    )
    values, missing = _healthy_latencies(receiver, commits)
    return {"values": values, "missing": missing, "rate": round(achieved, 1), "load": [before, _loadavg()]}


@scenario
def dead10(cfg) -> dict:
    """Phase A: one healthy channel at ``rate`` events/s. Phase B: the same while ``dead`` channels whose
    endpoints accept and never answer (timeout 30 s) get ``dead_rate`` events/s. p99 of B over A."""
    rate, seconds = cfg["rate"], cfg["seconds"]
    healthy_plan = [(i / rate, MEASURED) for i in range(int(rate * seconds))]
    dead_plan = [((i + 0.5) / cfg["dead_rate"], OTHER) for i in range(int(cfg["dead_rate"] * seconds))]
    with RobustReceiver() as receiver:
        subscribe(key=MEASURED, channel=postback_channel(name="healthy", url=receiver.url(HEALTHY)))
        dead = [
            postback_channel(name=f"dead-{n}", url=receiver.url(f"/dead/{n}"), timeout=cfg["timeout_s"])
            for n in range(cfg["dead"])
        ]
        for channel in dead:
            subscribe(key=OTHER, channel=channel)
        env = {**os.environ, "WEBHOOKS_TIMEOUT_S": str(cfg["timeout_s"])}
        cluster = start_qcluster(env, qcluster_log(cfg))
        try:
            _warm_up(receiver, cfg["timeout"])
            a = _healthy_phase(cfg, receiver, healthy_plan)
            receiver.reset()
            b = _healthy_phase(cfg, receiver, sorted(healthy_plan + dead_plan))
            dead_requests = len(receiver.log("/dead/"))
            dead_attempts = Attempt.objects.filter(delivery__channel__in=dead).count()
            dead_statuses = dict(Counter(Delivery.objects.filter(channel__in=dead).values_list("status", flat=True)))
            breakers = dict(Counter(ChannelBreaker.objects.filter(channel__in=dead).values_list("state", flat=True)))
        finally:
            stop_process(cluster)
    if not a["values"] or not b["values"]:
        raise ScenarioError("no healthy postback arrived in a phase")
    return {
        "dead10_healthy_p99_ratio": p99_ratio(b["values"], a["values"]),
        "details": {
            "healthy_rate": rate,
            "seconds_per_phase": seconds,
            "dead_channels": cfg["dead"],
            "dead_rate": cfg["dead_rate"],
            "dead_endpoint": f"accepts, never answers; channel timeout {cfg['timeout_s']} s",
            "phase_a": {**latency_summary(a["values"]), "missing": a["missing"], "achieved_rate": a["rate"]},
            "phase_b": {**latency_summary(b["values"]), "missing": b["missing"], "achieved_rate": b["rate"]},
            "loadavg_phase_a": a["load"],
            "loadavg_phase_b": b["load"],
            "dead_events": len(dead_plan),
            "dead_deliveries": len(dead_plan) * cfg["dead"],
            "dead_requests_tried": dead_requests,
            "dead_attempt_rows": dead_attempts,
            "dead_statuses_at_end_of_b": dead_statuses,
            "dead_breakers_at_end_of_b": breakers,
        },
    }


# (kind, path, channel timeout s) of the mixed run's channels besides the healthy one.
MIXED = [
    ("slow", "/slow/3/a", 10),
    ("slow", "/slow/3/b", 10),
    ("dead", "/dead/a", 5),
    ("dead", "/dead/b", 5),
    ("flaky", "/flaky/a", 5),
    ("flaky", "/flaky/b", 5),
]


def _engine_pids(cluster) -> set[int]:
    """The cluster's worker processes whose engine wrote a heartbeat: the ones that send."""
    tree = {p.pid for p in psutil.Process(cluster.pid).children(recursive=True)}
    beating = WorkerHeartbeat.objects.filter(kind=WorkerHeartbeat.Kind.ENGINE).values_list("pid", flat=True)
    return tree & set(beating)


def _emit_in_background(plan: list, errors: list) -> threading.Thread:
    def run():
        try:
            paced_emits(plan=plan, commits={}, measure=MEASURED)
        except Exception as exc:  # reported by the scenario
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _kill_one_worker(cluster, at: float) -> tuple[int, set[int], float]:
    """SIGKILL one engine worker process ``at`` (wall clock); (its pid, the engine pids before, when)."""
    time.sleep(max(0.0, at - time.time()))
    before = poll(lambda: _engine_pids(cluster), timeout=60, what="a live engine worker")
    pid = min(before)
    os.kill(pid, signal.SIGKILL)
    return pid, before, time.time()


def _end_states(*, grace_s: float) -> dict:
    """Every delivery as final, due (waiting for its time, its turn or a cooling breaker), in flight
    (a lease still valid) or stuck (a lease expired, or due and untouched, ``grace_s`` ago)."""
    now = timezone.now()
    late = now - timedelta(seconds=grace_s)
    cooling = set(ChannelBreaker.objects.exclude(state=BreakerState.CLOSED).values_list("channel_id", flat=True))
    counts = Counter()
    rows = Delivery.objects.values_list("status", "channel_id", "next_attempt_at", "lease_expires_at")
    for status, channel_id, next_at, lease in rows:
        if status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
            counts["final"] += 1
        elif status == DeliveryStatus.SENDING:
            counts["in_flight" if lease and lease > late else "stuck"] += 1
        elif channel_id in cooling or next_at is None or next_at > late:
            counts["due"] += 1
        else:
            counts["stuck"] += 1
    return dict(counts)


def _attempt_rows(paths: dict) -> dict:
    """(channel path, webhook-id) -> attempt rows; ``paths``: channel id -> its path at the receiver."""
    rows = Counter(Attempt.objects.values_list("delivery__channel_id", "delivery__event_id"))
    return {(paths[channel_id], str(event_id)): n for (channel_id, event_id), n in rows.items()}


def _mixed_channels(receiver: RobustReceiver) -> dict:
    """The healthy channel and the six of ``MIXED``, subscribed; channel id -> its path."""
    healthy = postback_channel(name="healthy", url=receiver.url(HEALTHY))
    subscribe(key=MEASURED, channel=healthy)
    paths = {healthy.pk: HEALTHY}
    for kind, path, timeout in MIXED:
        channel = postback_channel(name=f"{kind}{path.replace('/', '-')}", url=receiver.url(path), timeout=timeout)
        subscribe(key=OTHER, channel=channel)
        paths[channel.pk] = path
    return paths


def _settle(cfg, cluster, paths: dict, engine_before: set[int], killed_at: float) -> dict:
    """Wait for a replacement worker and for every non-dead delivery to end; what the database says then."""
    replaced = poll(lambda: _engine_pids(cluster) - engine_before, timeout=120, what="a replacement worker")
    poll(
        lambda: (
            not Delivery.objects.exclude(channel__url__contains="/dead/")
            .exclude(status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED])
            .exists()
        ),
        timeout=cfg["timeout"],
        interval=0.5,
        what="the healthy, slow and flaky deliveries to end",
    )
    time.sleep(2)  # anything still arriving shows now
    lost = Attempt.objects.filter(error=ErrorKind.WORKER_LOST, started_at__lt=_aware(killed_at))
    by_kind = {
        kind: Counter(Delivery.objects.filter(channel__url__contains=f"/{kind}/").values_list("status", flat=True))
        for kind in ("healthy", "slow", "dead", "flaky")
    }
    return {
        "replacement_engine_workers": len(replaced),
        "cluster_alive": cluster.poll() is None,
        "end_states": _end_states(grace_s=cfg["stuck_grace_s"]),
        "statuses": {kind: dict(counts) for kind, counts in by_kind.items()},
        "exempt": {(paths[c], str(e)) for c, e in lost.values_list("delivery__channel_id", "delivery__event_id")},
    }


@scenario
def mixed_kill(cfg) -> dict:
    """Slow, dead, flaky and healthy channels under continuous events; one engine worker SIGKILLed
    mid-run and replaced by the cluster. Counts double sends and unrecorded requests."""
    seconds = cfg["seconds"]
    plan = sorted(
        [(i / cfg["rate"], MEASURED) for i in range(int(cfg["rate"] * seconds))]
        + [((i + 0.5) / cfg["other_rate"], OTHER) for i in range(int(cfg["other_rate"] * seconds))]
    )
    with RobustReceiver() as receiver:
        paths = _mixed_channels(receiver)
        env = {**os.environ, "WEBHOOKS_RETRY_DELAYS": cfg["retry_delays"]}
        cluster = start_qcluster(env, qcluster_log(cfg))
        try:
            _warm_up(receiver, cfg["timeout"])
            began, errors = time.time(), []
            emitter = _emit_in_background(plan, errors)
            _, engine_before, killed_at = _kill_one_worker(cluster, began + seconds / 2)
            emitter.join()
            if errors:
                raise errors[0]
            settled = _settle(cfg, cluster, paths, engine_before, killed_at)
        finally:
            stop_process(cluster)
        rows = _attempt_rows(paths)
        log = receiver.log()
    exempt = settled.pop("exempt")
    doubles = double_sends(log, exempt=exempt, killed_at=killed_at)
    return {
        "double_sends": len(doubles),
        "unrecorded_requests": unrecorded_requests(log, rows),
        "details": {
            "seconds": seconds,
            "healthy_rate": cfg["rate"],
            "other_rate": cfg["other_rate"],
            "channels": {"healthy": HEALTHY, **{path: f"{kind}, timeout {t} s" for kind, path, t in MIXED}},
            "retry_delays": cfg["retry_delays"],
            "killed_after_s": round(killed_at - began, 1),
            "engine_workers_before_kill": len(engine_before),
            "exempt_in_flight_at_kill": len(exempt),
            "requests": len(log),
            "requests_by_kind": dict(Counter(r.path.split("/")[1] for r in log)),
            "attempt_rows": sum(rows.values()),
            "double_send_examples": doubles[:5],
            "stuck": settled["end_states"].get("stuck", 0),
            **settled,
        },
    }


def _aware(wall: float):
    return datetime.fromtimestamp(wall, tz=UTC)
