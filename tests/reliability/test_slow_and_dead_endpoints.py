"""SPEC section 5 at production timeouts: slow and dead endpoints beside a healthy one.

Issue 16 saw, on the engine before its rework: with a 25 s timeout and three endpoints that
answer after 24 s, 3 of 60 deliveries sent twice at the same time (a claimed row waited behind
other slow sends until its lease ran out); with one endpoint that never answers at the default
30 s timeout, healthy events waiting over 10 s and django-q2 restarting workers whose jobs ran
past the cluster's 90 s timeout. These tests run those cases with real clusters and receivers,
with traffic to a healthy channel for longer than one job's budget, and count every request the
receivers got against the attempt rows.
"""

import time

import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind
from tests.reliability.conftest import emit_many, poll, report
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(420)]

SLOW_KEY = "contact.created"
HEALTHY_KEY = "product.conflict"  # another type: the healthy channel's traffic goes only to it


def _healthy_traffic(*, seconds: float, every: float) -> dict[str, float]:
    """Emit one healthy event every ``every`` s for ``seconds``; event id -> monotonic commit time."""
    sent: dict[str, float] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        [event_id] = emit_many(1, key=HEALTHY_KEY)
        sent[event_id] = time.monotonic()
        time.sleep(every)
    return sent


def _latencies(receiver: Receiver, sent: dict[str, float]) -> list[float]:
    arrived = {r.webhook_id: r.arrived for r in receiver.requests}
    return sorted(arrived[event_id] - at for event_id, at in sent.items() if event_id in arrived)


def _requests_vs_attempts(receivers_and_channels) -> dict[str, tuple[int, int]]:
    return {
        channel.name: (len(receiver.requests), Attempt.objects.filter(delivery__channel=channel).count())
        for receiver, channel in receivers_and_channels
    }


def _worker_restarts(cluster) -> int:
    return cluster.log().count("reincarnated worker")


def test_endpoints_answering_just_inside_a_25_s_timeout_are_sent_once_each_and_the_healthy_one_flows(
    postback_to, clusters, bind_queue
):
    slow = [Receiver(default=Reply(delay=24)).start() for _ in range(3)]
    try:
        with Receiver() as healthy:
            # Given three channels whose endpoints answer after 24 s (timeout 25 s), a healthy one,
            # and one cluster of three workers at the production-like global timeout
            slow_channels = [postback_to(r.url(), name=f"slow {i}", timeout=25) for i, r in enumerate(slow)]
            healthy_channel = postback_to(healthy.url(), name="healthy", timeout=25, key=HEALTHY_KEY)
            cluster = bind_queue(clusters(workers=3, env={"WEBHOOKS_TIMEOUT_S": "25"}))
            cluster.start()

            # When 20 events go to every slow channel at once, with a healthy event every 2 s meanwhile
            slow_ids = emit_many(20, per_transaction=20, key=SLOW_KEY)
            sent = _healthy_traffic(seconds=60, every=2)
            poll(
                lambda: (
                    Delivery.objects.filter(channel__in=slow_channels, status=DeliveryStatus.SUCCEEDED).count() == 60
                ),
                timeout=150,
                message="every slow delivery succeeded",
            )
            poll(lambda: set(healthy.ids()) >= set(sent), timeout=30, message="every healthy event arrived")

            latencies = _latencies(healthy, sent)
            counts = _requests_vs_attempts([*zip(slow, slow_channels, strict=True), (healthy, healthy_channel)])
            figures = report(
                "Three endpoints answering after 24 s at a 25 s timeout, 20 events each, healthy traffic every 2 s",
                slow_requests=[len(r.requests) for r in slow],
                slow_duplicates=sum(r.duplicates() for r in slow),
                slow_overlapping=sum(len(r.overlapping_ids()) for r in slow),
                requests_vs_attempts=counts,
                healthy_events=len(sent),
                healthy_max_latency_s=round(latencies[-1], 2),
                healthy_median_latency_s=round(latencies[len(latencies) // 2], 2),
                worker_restarts=_worker_restarts(cluster),
                lost=len(set(slow_ids) - set(slow[0].ids())),
                duplicates=sum(r.duplicates() for r in slow),
            )

        # Then every slow delivery was sent exactly once, never twice at the same time
        for receiver in slow:
            assert sorted(receiver.ids().values()) == [1] * 20, figures
            assert receiver.overlapping_ids() == [], figures
        assert set(Delivery.objects.filter(channel__in=slow_channels).values_list("attempt_count", flat=True)) == {1}
        # and every request any receiver got is in the attempt log
        assert all(requests == attempts for requests, attempts in counts.values()), figures
        # and the healthy channel kept flowing while the slow sends were in flight
        assert len(latencies) == len(sent) and latencies[-1] < 10, figures
        assert figures["worker_restarts"] == 0, figures
    finally:
        for receiver in slow:
            receiver.stop()


def test_endpoints_that_never_answer_at_30_s_do_not_hold_up_healthy_traffic_longer_than_a_job(
    postback_to, clusters, bind_queue
):
    dead = [Receiver(default=Reply(silent=True)).start() for _ in range(4)]
    try:
        with Receiver() as healthy:
            # Given four channels whose endpoints accept and never answer, at the default 30 s timeout
            dead_channels = [postback_to(r.url(), name=f"dead {i}", timeout=30) for i, r in enumerate(dead)]
            healthy_channel = postback_to(healthy.url(), name="healthy", timeout=30, key=HEALTHY_KEY)
            cluster = bind_queue(clusters(workers=2, env={"WEBHOOKS_TIMEOUT_S": "30"}))
            cluster.start()

            # When 20 events go to every dead channel, and a healthy event every second for longer
            # than django-q2's job budget (90 s)
            emit_many(20, per_transaction=20, key=SLOW_KEY)
            sent = _healthy_traffic(seconds=100, every=1)
            poll(lambda: set(healthy.ids()) >= set(sent), timeout=30, message="every healthy event arrived")
            poll(
                lambda: not Delivery.objects.filter(channel__in=dead_channels, status=DeliveryStatus.SENDING).exists(),
                timeout=60,
                message="the dead sends in flight timed out",
            )

            latencies = _latencies(healthy, sent)
            dead_deliveries = list(Delivery.objects.filter(channel__in=dead_channels))
            attempted = [d for d in dead_deliveries if d.attempt_count]
            counts = _requests_vs_attempts([*zip(dead, dead_channels, strict=True), (healthy, healthy_channel)])
            figures = report(
                "Four endpoints that never answer (30 s timeout) beside healthy traffic at 1/s for 100 s",
                dead_connections=[r.connections for r in dead],
                dead_attempted=len(attempted),
                dead_waiting_without_attempt=len(dead_deliveries) - len(attempted),
                requests_vs_attempts=counts,
                healthy_events=len(sent),
                healthy_over_10_s=sum(1 for lat in latencies if lat > 10),
                healthy_max_latency_s=round(latencies[-1], 2),
                healthy_median_latency_s=round(latencies[len(latencies) // 2], 2),
                worker_restarts=_worker_restarts(cluster),
                lost=len(set(sent) - set(healthy.ids())),
                duplicates=healthy.duplicates(),
            )

        # Then no dead delivery got a second connection (timeouts are not retried), each that was
        # tried ended failed as a timeout, and every request is in the attempt log
        assert all(d.attempt_count <= 1 for d in dead_deliveries), figures
        assert all(d.status == DeliveryStatus.FAILED and d.last_error == ErrorKind.TIMEOUT for d in attempted), figures
        assert sum(r.connections for r in dead) == len(attempted), figures
        assert all(requests == attempts for requests, attempts in counts.values()), figures
        # and healthy traffic never waited behind them, nor did any job outlive the cluster's timeout
        assert len(latencies) == len(sent) and latencies[-1] < 10, figures
        assert healthy.duplicates() == 0, figures
        assert figures["worker_restarts"] == 0, figures
    finally:
        for receiver in dead:
            receiver.stop()
