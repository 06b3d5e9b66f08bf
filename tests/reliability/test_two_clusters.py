"""SPEC section 5: two clusters on one database never send one delivery twice at the same time.

Both clusters share the queue name, as two machines of one deployment would, so every
kick may wake a dispatcher in either; the claim (a conditional UPDATE) must decide who
sends. Checked where it matters, on the receiver: the intervals during which each
webhook-id was being received never overlap.
"""

import time

import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus
from tests.reliability.conftest import emit_many, poll, report, status_counts
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(300)]

EVENTS = 400


def test_two_clusters_on_one_database_never_have_two_attempts_of_one_delivery_in_flight(
    postback_to, clusters, bind_queue
):
    with Receiver(default=Reply(delay=0.2)) as receiver:
        # Given two channels (so both clusters have work) and two clusters on one queue
        postback_to(receiver.url("/a"), name="a")
        postback_to(receiver.url("/b"), name="b", key="contact.created")
        first = bind_queue(clusters(workers=2, name=f"pair{time.time_ns() % 10**8}"))
        second = clusters(workers=2, name=first.name)
        first.start()
        second.start()

        # When events arrive in many small transactions (many kicks, racing dispatchers; spaced past
        # the kick window, so each commit is a job of its own: emits got fast enough to coalesce them all)
        started = time.monotonic()
        event_ids = emit_many(EVENTS, per_transaction=5, pause_s=0.06)
        total = Delivery.objects.count()
        poll(
            lambda: status_counts().get(DeliveryStatus.SUCCEEDED, 0) == total,
            timeout=200,
            message=f"all {total} delivered ({status_counts()})",
        )
        elapsed = time.monotonic() - started

        # Then no webhook-id was ever received twice at once, and nothing was sent twice
        overlaps = receiver.overlapping_ids()
        received = receiver.ids("/a") + receiver.ids("/b")
        duplicates = sum(n - 1 for n in receiver.ids("/a").values()) + sum(n - 1 for n in receiver.ids("/b").values())
        lost = (set(event_ids) - set(receiver.ids("/a"))) | (set(event_ids) - set(receiver.ids("/b")))
        peak = max(
            (
                sum(1 for o in receiver.requests if o.arrived <= r.arrived < (o.answered or 1e18))
                for r in receiver.requests
            ),
            default=0,
        )
        figures = report(
            "Two clusters on one database",
            events=EVENTS,
            deliveries=total,
            lost=len(lost),
            duplicates=duplicates,
            overlapping=len(overlaps),
            peak_concurrent_requests=peak,
            seconds=round(elapsed, 1),
        )
        assert sum(received.values()) >= total
        assert not overlaps, figures
        assert not lost, figures
        assert duplicates == 0, figures
        assert Attempt.objects.count() == total
        assert set(Delivery.objects.values_list("attempt_count", flat=True)) == {1}
        # Both clusters did part of the work (otherwise this proved nothing about racing).
        processed = [c.log().count("Processed") for c in (first, second)]
        assert all(processed), f"jobs processed per cluster: {processed}"
