"""SPEC section 5 under a crash: qcluster SIGKILLed in the middle of 1,000 deliveries, then restarted.

Every event must reach the receiver (at-least-once); duplicates are allowed by the
promise and are counted, as is the time from the crash until the last delivery is done.
No delivery may ever be in flight twice at once.
"""

import time

import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus
from tests.reliability.conftest import emit_many, poll, report, status_counts
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(300)]

EVENTS = 1000


def test_sigkill_of_qcluster_mid_delivery_loses_nothing_and_restart_finishes_the_rest(
    postback_to, clusters, bind_queue
):
    # Given a receiver slow enough that the crash lands mid-run, and 1,000 committed events
    with Receiver(default=Reply(delay=0.05)) as receiver:
        channel = postback_to(receiver.url("/hook"))
        cluster = bind_queue(clusters(workers=2))
        event_ids = emit_many(EVENTS)
        assert Delivery.objects.count() == EVENTS

        # When the cluster is SIGKILLed (master and workers, no cleanup) a third of the way through
        cluster.start()
        poll(lambda: len(receiver.requests) >= EVENTS // 3, timeout=120, message="a third delivered before the kill")
        cluster.kill()
        killed_at = time.monotonic()
        received_at_kill = len(receiver.ids())
        at_kill = status_counts()
        in_flight_at_kill = receiver.in_flight

        # ... and started again
        cluster.start()
        # The sweeper schedule on duty now, not at the scheduler's first pass (~30 s after start)
        assert "postbacks-sweeper" in cluster.run_schedules_now()
        poll(
            lambda: status_counts().get(DeliveryStatus.SUCCEEDED, 0) == EVENTS,
            timeout=200,
            message=f"all {EVENTS} succeeded after the restart (now {status_counts()})",
        )
        recovered_s = time.monotonic() - killed_at

        # Then every event reached the receiver, and none was in flight twice at once
        received = receiver.ids()
        lost = set(event_ids) - set(received)
        duplicates = sum(n - 1 for n in received.values())
        overlaps = receiver.overlapping_ids()
        figures = report(
            "SIGKILL of qcluster mid 1,000 deliveries, restart",
            events=EVENTS,
            received_before_kill=received_at_kill,
            statuses_at_kill=at_kill,
            requests_in_flight_at_kill=in_flight_at_kill,
            lost=len(lost),
            duplicates=duplicates,
            overlapping=len(overlaps),
            recover_s=round(recovered_s, 1),
        )
        assert not lost, figures
        assert not overlaps, figures
        # The crash may repeat only what was in flight (claimed, sent, result unsaved): never more.
        assert duplicates <= at_kill.get(DeliveryStatus.SENDING, 0), figures
        # The database agrees with the receiver: one success each, attempts numbered without gaps.
        assert not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
        for delivery in Delivery.objects.filter(attempt_count__gt=1):
            numbers = sorted(Attempt.objects.filter(delivery=delivery).values_list("number", flat=True))
            assert numbers == list(range(1, delivery.attempt_count + 1)), (delivery.pk, numbers)
        # What the workers logged through all this holds no signing secret.
        assert channel.secret not in cluster.log() and channel.secret.removeprefix("whsec_") not in cluster.log()
