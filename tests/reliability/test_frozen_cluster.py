"""A frozen cluster wakes up past its leases and sends nothing it no longer owns (SPEC section 5).

Issue 16 saw, on the engine before its rework: SIGSTOP a cluster past its lease, another takes
over and delivers, SIGCONT: the frozen one sent the rows it had claimed but not started (232
requests for 200 deliveries), and those sends were not in the attempt log. Now a claim takes
only rows that start at once, a send starts only while the lease left covers the whole attempt,
and outcomes are fenced by the claim token.
"""

import os
import signal
import time

import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus
from tests.reliability.conftest import emit_many, poll, report, unrecorded_requests
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(300)]

EVENTS = 200


def _succeeded() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count()


def test_a_cluster_frozen_past_its_leases_sends_nothing_after_waking(postback_to, clusters, bind_queue):
    with Receiver(default=Reply(delay=0.5)) as receiver:
        # Given one cluster sending 200 deliveries to an endpoint that answers in 0.5 s
        postback_to(receiver.url(), name="receiver", timeout=3)
        frozen = bind_queue(clusters(workers=2, name="frozen-and-taker"))
        frozen.start()
        event_ids = emit_many(EVENTS, per_transaction=EVENTS)
        poll(lambda: len(receiver.requests) >= 20, timeout=60, message="the first cluster is sending")

        # When it is frozen mid-run, past its leases (grace 5 s + timeout 3 s + margin 10 s)
        os.killpg(frozen.process.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        sending_at_freeze = Delivery.objects.filter(status=DeliveryStatus.SENDING).count()
        time.sleep(20)
        # and another cluster on the same queue takes the expired leases back and delivers the rest
        taker = clusters(workers=2, name="frozen-and-taker")
        taker.start()
        poll(lambda: _succeeded() == EVENTS, timeout=120, message="the second cluster delivered everything")
        requests_before_waking = len(receiver.requests)
        # and then the frozen one wakes up
        os.killpg(frozen.process.pid, signal.SIGCONT)
        woke_at = time.monotonic()
        time.sleep(10)  # its send threads and control loop run again

        late = [r for r in receiver.requests if r.arrived > woke_at]
        ids = receiver.ids()
        attempts = Attempt.objects.count()
        figures = report(
            "Cluster SIGSTOPped past its leases while another delivers, then SIGCONT",
            events=EVENTS,
            sending_at_freeze=sending_at_freeze,
            requests=len(receiver.requests),
            attempt_rows=attempts,
            unrecorded_requests=unrecorded_requests(receiver),
            requests_after_waking=len(late),
            frozen_for_s=round(woke_at - frozen_at, 1),
            lost=len(set(event_ids) - set(ids)),
            duplicates=receiver.duplicates(),
            overlapping=len(receiver.overlapping_ids()),
        )

    # Then the woken cluster sent nothing: every delivery had succeeded, and no request came after
    assert late == [] and len(receiver.requests) == requests_before_waking, figures
    # and every request the receiver got is in the attempt log
    assert figures["unrecorded_requests"] == 0, figures
    # and no delivery was in flight twice at once; re-sends are only of what was in flight when frozen
    assert receiver.overlapping_ids() == [], figures
    assert receiver.duplicates() <= sending_at_freeze, figures
    assert set(ids) == set(event_ids), figures
