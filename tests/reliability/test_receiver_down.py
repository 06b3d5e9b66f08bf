"""SPEC sections 4 and 5: a receiver that refuses connections, then comes back; another that stays down.

Refused connections are retried (at most 3 automatic retries), and a channel that keeps
refusing is cooled off by its circuit breaker: its deliveries wait without spending
attempts while one probe at a time tests it. The cluster runs with retry delays of 2 s
and a first cool-off of 2 s.
"""

import time

import pytest

from deliveries.models import Attempt, BreakerState, ChannelBreaker, Delivery, DeliveryStatus, ErrorKind
from tests.reliability.conftest import emit_many, poll, report
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(240)]

EVENTS = 20
BREAKER_ENV = {"WEBHOOKS_BREAKER_COOLOFF_S": "2", "WEBHOOKS_BREAKER_MAX_COOLOFF_S": "4"}


def _breaker(channel):
    row = ChannelBreaker.objects.filter(channel=channel).first()
    return row.state if row else BreakerState.CLOSED


def _assert_cooled_off(channel, deliveries, attempts, figures):
    """The channel that stays down: cooled off, far fewer attempts than 4 per delivery, none over 4."""
    assert _breaker(channel) != BreakerState.CLOSED, figures
    assert attempts < 2 * EVENTS, figures
    assert all(d.attempt_count <= 4 for d in deliveries), figures
    for delivery in deliveries:
        if delivery.status == DeliveryStatus.FAILED:
            assert delivery.attempt_count == 4 and delivery.last_error == ErrorKind.CONNECTION, figures
        else:
            assert delivery.status == DeliveryStatus.PENDING, figures


def test_a_refusing_receiver_is_cooled_off_gets_everything_when_back_and_the_other_spends_few_attempts(
    postback_to, clusters, bind_queue
):
    comes_back = Receiver()  # not started: port bound, not listening, so connections are refused
    stays_down = Receiver()
    try:
        back_channel = postback_to(comes_back.url(), name="comes back")
        down_channel = postback_to(stays_down.url(), name="stays down")
        cluster = bind_queue(clusters(workers=2, env=BREAKER_ENV))
        cluster.start()

        # Given every attempt refused: the breakers open and the deliveries wait
        event_ids = emit_many(EVENTS, per_transaction=5)
        poll(
            lambda: _breaker(back_channel) != BreakerState.CLOSED and _breaker(down_channel) != BreakerState.CLOSED,
            timeout=60,
            message="both breakers opened",
        )
        waiting = Delivery.objects.filter(channel=back_channel, status=DeliveryStatus.PENDING, attempt_count=0).count()

        # When one receiver comes back on the same port
        comes_back.start()
        back_at = time.monotonic()

        # Then a probe finds it back and it gets every event; the other keeps its deliveries waiting
        poll(
            lambda: Delivery.objects.filter(channel=back_channel, status=DeliveryStatus.SUCCEEDED).count() == EVENTS,
            timeout=90,
            message="every delivery to the receiver that came back succeeded",
        )
        recovered_s = time.monotonic() - back_at
        time.sleep(6)  # the other channel's breaker probes a few more times meanwhile
        received = comes_back.ids()
        lost = set(event_ids) - set(received)
        down = list(Delivery.objects.filter(channel=down_channel))
        down_attempts = Attempt.objects.filter(delivery__channel=down_channel).count()
        figures = report(
            "Receiver refusing then back; another stays down (circuit breaker)",
            events=EVENTS,
            lost=len(lost),
            duplicates=comes_back.duplicates(),
            overlapping=len(comes_back.overlapping_ids()),
            recover_s=round(recovered_s, 1),
            waited_without_attempts=waiting,
            stays_down={
                "breaker": _breaker(down_channel),
                "attempts_total": down_attempts,
                "attempts_each": sorted({d.attempt_count for d in down}),
                "statuses": sorted({d.status for d in down}),
            },
        )
        assert not lost, figures
        assert comes_back.duplicates() == 0 and not comes_back.overlapping_ids(), figures
        assert waiting > 0, figures  # the breaker held deliveries back before they spent an attempt
        assert _breaker(back_channel) == BreakerState.CLOSED, figures
        _assert_cooled_off(down_channel, down, down_attempts, figures)
    finally:
        comes_back.stop()
        stays_down.stop()
