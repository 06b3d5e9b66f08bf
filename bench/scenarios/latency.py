"""How fast one delivery arrives: commit to arrival at a steady rate, and beside a slow endpoint."""

from __future__ import annotations

import os
import statistics
from collections import Counter

from bench.harness import Receiver, percentile, poll, start_qcluster, stop_process
from bench.scenarios import scenario
from bench.scenarios.helpers import (
    latencies_ms,
    paced_emits,
    postback_channel,
    qcluster_log,
    subscribe,
    wait_for_count,
    warm_up,
)
from deliveries.models import ChannelBreaker, Delivery, DeliveryStatus


@scenario
def latency(cfg) -> dict:
    """Commit of emit to arrival, at a steady rate, with the cluster running."""
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
def slow_endpoint(cfg) -> dict:
    """A healthy endpoint's p99 while another endpoint sleeps past its timeout, over the same without it.

    The two conditions alternate (``rounds`` times each, ``seconds`` per phase) so that drift
    in the shared machine's load hits both alike; a phase starts only once the slow endpoint's
    deliveries of the previous one have ended, so no slow send leaks into a baseline phase.
    """
    _ENDED_BY_BENCH.clear()
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
                phase_values, phase_missing = _phase(cfg, receiver, plan, len(healthy_plan), slow_channel)
                values[condition] += phase_values
                missing += phase_missing
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
            # Waiting behind the open breaker at a phase's end, failed by the bench (``_end_slow_phase``).
            "slow_ended_by_bench_per_phase": list(_ENDED_BY_BENCH),
            "missing": missing,
        },
    }


# Slow deliveries still waiting behind the slow channel's open breaker at the end of a phase.
_ENDED_BY_BENCH: list[int] = []


def _end_slow_phase(cfg, slow_channel) -> int:
    """Wait until none of the slow channel's sends is in flight; end what still waits; close its breaker.

    A slow endpoint trips the channel's breaker after a few timeouts; its other deliveries then
    wait for probes spaced by a growing cool-off (30 s, 60 s, ...), spending no attempt, so they
    would not end within a phase. They are failed here (counted in ``details``) and the breaker is
    reset, so no slow send leaks into the next phase and every "with" phase starts with a closed
    breaker, its learning period (the first timeouts) included.
    """

    def nothing_in_flight():
        return not Delivery.objects.filter(channel=slow_channel, status=DeliveryStatus.SENDING).exists()

    poll(nothing_in_flight, timeout=cfg["timeout"], interval=0.25, what="the slow endpoint's sends to end")
    ended = Delivery.objects.filter(channel=slow_channel, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error="timeout", failure_reason="ended by the benchmark"
    )
    poll(nothing_in_flight, timeout=cfg["timeout"], interval=0.25, what="the slow endpoint's sends to end")
    ChannelBreaker.objects.filter(channel=slow_channel).delete()
    return ended


def _phase(cfg, receiver: Receiver, plan, healthy_count: int, slow_channel) -> tuple[list[float], int]:
    """Emit ``plan``; the healthy endpoint's latencies once all its postbacks arrived, and how many are
    missing. Returns only once no slow send is in flight and none waits, so none leaks into the next phase."""
    receiver.reset()
    commits: dict[str, float] = {}
    paced_emits(plan=plan, commits=commits)

    def healthy_arrived():
        return sum(1 for a in receiver.arrivals() if a[2].startswith("/healthy")) >= healthy_count

    poll(healthy_arrived, timeout=cfg["timeout"], interval=0.25, what="the healthy endpoint's postbacks")
    measured = latencies_ms(commits, receiver.arrivals(), path_prefix="/healthy")
    ended_by_bench = _end_slow_phase(cfg, slow_channel)
    if ended_by_bench:
        _ENDED_BY_BENCH.append(ended_by_bench)
    return measured
