"""A delivery whose send kills its process every time ends ``failed`` (``worker_lost``) after three lost processes,
and takes no other delivery with it.

Issue 16 saw, on the engine before its rework: no poison cap, so a send that kills its worker
was taken back and sent again forever. Then, with the cap: the healthy deliveries in flight in
the same worker died with it each time, were taken back with the poison one, claimed with it
again, and all ended ``worker_lost`` (in 3 of 5 runs, 15 requests for 5 healthy deliveries
answered 200). Now a suspect (a delivery whose sending process was lost twice) is sent in a
process of its own. Here the receiver kills the very process that sent the request (found by the
connection's port) on every request of one delivery, while another channel's deliveries keep flowing.
"""

import os
import signal

import psutil
import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind
from tests.reliability.conftest import emit_many, poll, report, unrecorded_requests
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(300)]

OTHER_KEY = "product.conflict"


def _sender_pid(port: int) -> int | None:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.pid and conn.pid != os.getpid():
            return conn.pid
    return None


def _kill_the_sender(kills: list[int]):
    def answer(request):
        pid = _sender_pid(request.client_port)
        if pid:
            kills.append(pid)
            os.kill(pid, signal.SIGKILL)
        return Reply()

    return answer


def test_a_delivery_that_kills_its_process_every_time_fails_after_three_and_spares_the_others(
    postback_to, clusters, bind_queue
):
    kills: list[int] = []
    with Receiver(default=_kill_the_sender(kills)) as poison, Receiver() as healthy:
        # Given one delivery whose every send kills the worker process sending it (lease: start
        # grace 5 s + timeout 3 s + margin 10 s), and a healthy channel
        poisoned = postback_to(poison.url(), name="poison")
        other = postback_to(healthy.url(), name="healthy", key=OTHER_KEY)
        cluster = bind_queue(clusters(workers=2))
        cluster.start()

        # When it is emitted, with healthy events before and after
        emit_many(5, key=OTHER_KEY)
        emit_many(1)
        poll(lambda: len(kills) >= 1, timeout=60, message="the poison delivery killed its first worker")
        poll(
            lambda: Delivery.objects.filter(channel=poisoned, status=DeliveryStatus.FAILED).exists(),
            timeout=150,
            message="the poison delivery ended failed",
        )
        emit_many(5, key=OTHER_KEY)
        try:
            poll(
                lambda: Delivery.objects.filter(channel=other, status=DeliveryStatus.SUCCEEDED).count() == 10,
                timeout=120,
                message="the healthy channel still gets its events",
            )
        except AssertionError:
            log = cluster.log()
            at = log.find("Traceback")
            print("CLUSTER LOG", log[max(0, at - 2000) : at + 6000] if at >= 0 else log[-3000:])
            raise
        delivery = Delivery.objects.get(channel=poisoned)
        figures = report(
            "A delivery whose every send SIGKILLs the sending worker",
            poison_requests=len(poison.requests),
            workers_killed=len(set(kills)),
            lease_expiries=delivery.lease_expiries,
            status=delivery.status,
            last_error=delivery.last_error,
            attempt_rows=Attempt.objects.filter(delivery=delivery).count(),
            healthy_requests=len(healthy.requests),
            # a healthy send in flight in a worker the poison killed: taken back and sent again
            healthy_sends_lost_with_a_worker=Attempt.objects.filter(
                delivery__channel=other, error=ErrorKind.WORKER_LOST
            ).count(),
            unrecorded_requests=unrecorded_requests(poison) + unrecorded_requests(healthy),
        )

    # Then it was sent three times, killing three processes (two workers, then a process of its
    # own), and ended failed as worker_lost
    assert figures["poison_requests"] == 3 and figures["workers_killed"] == 3, figures
    assert (delivery.status, delivery.last_error, delivery.lease_expiries) == ("failed", ErrorKind.WORKER_LOST, 3)
    # and every request is in the attempt log, and the healthy channel got each event, again only
    # where its send was in flight in a killed worker
    assert figures["unrecorded_requests"] == 0, figures
    assert len(healthy.ids()) == 10, figures
    assert figures["healthy_requests"] - 10 <= figures["healthy_sends_lost_with_a_worker"], figures
    # and a healthy delivery lost with the worker was lost at most twice (its last try before the
    # cap is sent on its own, away from the poison one), and succeeded
    assert not Delivery.objects.filter(channel=other, lease_expiries__gt=2).exists(), figures
    assert not Delivery.objects.filter(channel=other).exclude(status=DeliveryStatus.SUCCEEDED).exists(), figures
