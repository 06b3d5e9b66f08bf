"""SIGKILL of a cluster's task-running worker processes, three times: delivery resumes by itself.

Issue 16 saw, on PostgreSQL + Redis before the engine's rework: SIGKILL of a qcluster's two
worker processes froze the cluster (the replacements blocked on the task queue's lock that a
killed worker held) and nothing was delivered for 92 s until a manual restart; the receiver got
1,015 POSTs for 1,000 deliveries while the attempt table held 1,005. Here the cluster is never
restarted by hand: django-q2's Sentinel replaces the killed workers, ``SafeQueue`` keeps the
queue usable, expired leases are taken back, and every request the receiver got is logged.
"""

import os
import signal
import time

import psutil
import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus, WorkerHeartbeat
from tests.reliability.conftest import emit_many, poll, report, unrecorded_requests
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(360)]

EVENTS = 1000
KILLS = 3


def _engine_pids(cluster) -> set[int]:
    """Worker processes of this cluster whose engine wrote a heartbeat: the ones that send."""
    tree = {p.pid for p in psutil.Process(cluster.process.pid).children(recursive=True)}
    beating = set(WorkerHeartbeat.objects.filter(kind=WorkerHeartbeat.Kind.ENGINE).values_list("pid", flat=True))
    return tree & beating


def _succeeded() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count()


def test_killing_the_sending_workers_three_times_loses_nothing_and_needs_no_restart(postback_to, clusters, bind_queue):
    with Receiver(default=Reply(delay=0.05)) as receiver:
        # Given a cluster of two workers sending 1,000 deliveries
        postback_to(receiver.url(), name="receiver", timeout=3)
        cluster = bind_queue(clusters(workers=2))
        cluster.start()
        event_ids = emit_many(EVENTS, per_transaction=100)

        # When its sending worker processes are SIGKILLed, three times, as each set of replacements works
        sending_at_kills, killed = [], []
        for round_ in range(KILLS):
            target = 100 * (round_ + 1)
            poll(lambda t=target: len(receiver.requests) >= t, timeout=90, message=f"{target} requests before kill")
            pids = poll(lambda: _engine_pids(cluster) - set(killed), timeout=60, message="live engine workers")
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            killed.extend(pids)
            # Counted once they are gone, before their replacements can claim (a count taken before
            # the kill misses what they claimed meanwhile): these are exactly the dead workers' rows.
            psutil.wait_procs([psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)], timeout=5)
            sending_at_kills.append(Delivery.objects.filter(status=DeliveryStatus.SENDING).count())
            time.sleep(3)
        killed_at = time.monotonic()

        # Then, with no restart, every delivery succeeds
        poll(lambda: _succeeded() == EVENTS, timeout=180, message="every delivery succeeded after the kills")
        time.sleep(2)  # anything still arriving would show now
        ids = receiver.ids()
        attempts = Attempt.objects.count()
        figures = report(
            "Sending worker processes SIGKILLed three times during 1,000 deliveries, no restart",
            events=EVENTS,
            workers_killed=len(killed),
            sending_at_kills=sending_at_kills,
            requests=len(receiver.requests),
            attempt_rows=attempts,
            unrecorded_requests=unrecorded_requests(receiver),
            recover_s=round(time.monotonic() - killed_at, 1),
            cluster_alive=cluster.process.poll() is None,
            lost=len(set(event_ids) - set(ids)),
            duplicates=receiver.duplicates(),
            overlapping=len(receiver.overlapping_ids()),
        )

    assert set(ids) == set(event_ids) and cluster.process.poll() is None, figures
    # every request the receiver got is in the attempt log, the killed workers' sends included
    assert figures["unrecorded_requests"] == 0, figures
    # re-sends only of what was in flight at a kill (at-least-once), never two at once
    assert receiver.duplicates() <= sum(sending_at_kills), figures
    assert receiver.overlapping_ids() == [], figures
