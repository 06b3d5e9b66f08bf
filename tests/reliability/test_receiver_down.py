"""SPEC sections 4 and 5: a receiver that refuses connections, then comes back.

Connection refused is retried by the schedule (at most 3 automatic retries); a receiver
that comes back gets everything; one that stays down ends ``failed`` with the reason,
after exactly 4 attempts. The cluster runs with retry delays of 2 s (``WEBHOOKS_RETRY_DELAYS``).
"""

import time

import pytest

from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind
from tests.reliability.conftest import emit_many, poll, report
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(240)]

EVENTS = 20


def test_a_receiver_down_then_back_gets_everything_and_one_that_stays_down_ends_failed_with_the_reason(
    postback_to, clusters, bind_queue
):
    comes_back = Receiver()  # not started: port bound, not listening, so connections are refused
    stays_down = Receiver()
    try:
        back_channel = postback_to(comes_back.url(), name="comes back")
        down_channel = postback_to(stays_down.url(), name="stays down")
        cluster = bind_queue(clusters(workers=2))
        cluster.start()
        # The sweeper schedule on duty now, not at the scheduler's first pass (~30 s after start)
        assert "postbacks-sweeper" in cluster.run_schedules_now()

        # Given every first attempt refused
        event_ids = emit_many(EVENTS, per_transaction=5)
        poll(
            lambda: (
                Attempt.objects.filter(delivery__channel=back_channel, error=ErrorKind.CONNECTION).count() >= EVENTS
            ),
            timeout=60,
            message="the first attempts were refused",
        )
        # When one receiver comes back on the same port
        comes_back.start()
        back_at = time.monotonic()

        # Then it gets every event, by the retry schedule; the other ends failed after 4 attempts
        poll(
            lambda: Delivery.objects.filter(channel=back_channel, status=DeliveryStatus.SUCCEEDED).count() == EVENTS,
            timeout=150,
            message="every delivery to the receiver that came back succeeded",
        )
        recovered_s = time.monotonic() - back_at
        poll(
            lambda: Delivery.objects.filter(channel=down_channel, status=DeliveryStatus.FAILED).count() == EVENTS,
            timeout=150,
            message="every delivery to the receiver that stayed down failed",
        )

        received = comes_back.ids()
        lost = set(event_ids) - set(received)
        down = list(Delivery.objects.filter(channel=down_channel))
        figures = report(
            "Receiver down (connection refused) then back; another stays down",
            events=EVENTS,
            lost=len(lost),
            duplicates=comes_back.duplicates(),
            overlapping=len(comes_back.overlapping_ids()),
            recover_s=round(recovered_s, 1),
            stays_down={
                "failed": sum(d.status == DeliveryStatus.FAILED for d in down),
                "attempts_each": sorted({d.attempt_count for d in down}),
                "last_error": sorted({d.last_error for d in down}),
                "reason": down[0].failure_reason,
            },
        )
        assert not lost, figures
        assert comes_back.duplicates() == 0 and not comes_back.overlapping_ids(), figures
        back_attempts = {d.attempt_count for d in Delivery.objects.filter(channel=back_channel)}
        assert back_attempts <= {2, 3, 4}, back_attempts  # refused at least once, then succeeded
        for delivery in down:
            assert delivery.attempt_count == 4, figures  # the first attempt and 3 automatic retries
            assert delivery.last_error == ErrorKind.CONNECTION and delivery.failure_reason, figures
            assert delivery.next_attempt_at is None or delivery.status == DeliveryStatus.FAILED
    finally:
        comes_back.stop()
        stays_down.stop()
