"""The engine's pure rules: sharing threads between channels, the breaker, retry delays, bounding what endpoints send."""

import datetime as dt
import random

import pytest
from django.test import override_settings

from deliveries.engine import breaker
from deliveries.engine.claims import share_round_robin
from deliveries.engine.jobs import Outcome
from deliveries.engine.outcome import plan_outcome, retry_delay
from deliveries.engine.transport import bounded_headers, parse_retry_after
from deliveries.models import BreakerState, ChannelBreaker, DeliveryStatus, ErrorKind, Trigger

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def test_free_threads_are_shared_one_per_channel_per_round():
    # Given three channels with room for 5, 1 and 3 sends, and 6 free threads
    rooms = {1: 5, 2: 1, 3: 3}

    # When they are shared
    allotted = share_round_robin(rooms, 6)

    # Then each round gives every channel with room one, so the big backlog does not take them all
    assert allotted == {1: 3, 2: 1, 3: 2}


def test_sharing_stops_at_the_rooms_when_threads_are_plenty():
    assert share_round_robin({1: 2, 2: 1}, 100) == {1: 2, 2: 1}
    assert share_round_robin({}, 10) == {}
    assert share_round_robin({1: 3}, 0) == {}


def test_a_closed_or_unknown_breaker_sets_no_limit_of_its_own():
    assert breaker.admits(None, in_flight=3, now=NOW) == (None, False)
    assert breaker.admits(ChannelBreaker(state=BreakerState.CLOSED), in_flight=3, now=NOW) == (None, False)


def test_an_open_breaker_admits_nothing_until_the_cooloff_ends_then_one_probe():
    health = ChannelBreaker(state=BreakerState.OPEN, open_until=NOW + dt.timedelta(seconds=10))
    assert breaker.admits(health, in_flight=0, now=NOW) == (0, False)
    later = NOW + dt.timedelta(seconds=11)
    assert breaker.admits(health, in_flight=0, now=later) == (1, True)
    # ...but not while sends from before it opened are still out
    assert breaker.admits(health, in_flight=2, now=later) == (0, True)


def test_a_half_open_breaker_waits_for_its_probe_unless_the_probe_was_lost():
    health = ChannelBreaker(state=BreakerState.HALF_OPEN, probe_started_at=NOW)
    assert breaker.admits(health, in_flight=1, now=NOW + dt.timedelta(seconds=5)) == (0, False)
    assert breaker.admits(health, in_flight=0, now=NOW + dt.timedelta(hours=1)) == (1, True)


@override_settings(WEBHOOKS_RETRY_DELAYS=[30, 120, 600])
def test_retry_delays_spread_over_the_whole_width_of_the_configured_delay():
    random.seed(7)
    delays = [retry_delay(retry_number=1) for _ in range(2000)]
    assert 15 <= min(delays) < 17 and 43 < max(delays) <= 45
    assert 29 < sum(delays) / len(delays) < 31
    assert 60 <= retry_delay(retry_number=2) <= 180
    assert 300 <= retry_delay(retry_number=9) <= 900  # beyond the list: its last delay


@override_settings(WEBHOOKS_RETRY_DELAYS=[30], WEBHOOKS_RETRY_AFTER_CAP_S=3600)
def test_retry_after_is_a_floor_with_jitter_above_it_and_capped():
    random.seed(3)
    delays = [retry_delay(retry_number=1, retry_after_s=300) for _ in range(200)]
    assert all(300 <= d <= 331 for d in delays) and len(set(delays)) > 100
    assert 3600 <= retry_delay(retry_number=1, retry_after_s=10**9) <= 3961
    # a Retry-After shorter than the backoff does not shorten it
    assert retry_delay(retry_number=1, retry_after_s=1) >= 15


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("9" * 400, None),  # a 400-digit answer is junk, not a crash
        ("99999999999", 10.0**9),
        ("-5", None),
        ("1e9", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
        ("Wed, 99 Oct 99999 99:99:99 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_parsed_defensively(header, seconds):
    assert parse_retry_after(header) == seconds


def test_a_header_bomb_is_stored_within_8_kib():
    # Given 95 headers of 65,000 bytes each (6.2 MB)
    bomb = {f"X-Bomb-{i}": "b" * 65000 for i in range(95)}

    # When they are bounded for storage
    stored = bounded_headers(bomb)

    # Then what is kept is at most 8 KiB, and says that headers were dropped
    size = sum(len(k.encode()) + len(v.encode()) for k, v in stored.items())
    assert size <= 8192
    assert "X-Postbacks-Headers-Dropped" in stored
    assert all(len(v) <= 1025 for v in stored.values())


def test_nul_characters_in_headers_are_made_storable():
    assert bounded_headers({"X-A\x00": "v\x00"}) == {"X-A\ufffd": "v\ufffd"}


@pytest.mark.parametrize(
    "outcome, trigger, automatic, expected",
    [
        (Outcome(started_at=NOW, response_status=200), Trigger.AUTOMATIC, 1, DeliveryStatus.SUCCEEDED),
        (
            Outcome(started_at=NOW, response_status=503, error=ErrorKind.HTTP_STATUS),
            Trigger.AUTOMATIC,
            1,
            DeliveryStatus.PENDING,
        ),
        (
            Outcome(started_at=NOW, response_status=503, error=ErrorKind.HTTP_STATUS),
            Trigger.AUTOMATIC,
            4,
            DeliveryStatus.FAILED,
        ),
        (
            Outcome(started_at=NOW, response_status=404, error=ErrorKind.HTTP_STATUS),
            Trigger.AUTOMATIC,
            1,
            DeliveryStatus.FAILED,
        ),
        (Outcome(started_at=NOW, error=ErrorKind.TIMEOUT), Trigger.AUTOMATIC, 1, DeliveryStatus.FAILED),
        (Outcome(started_at=NOW, error=ErrorKind.CONNECTION), Trigger.AUTOMATIC, 2, DeliveryStatus.PENDING),
        (Outcome(started_at=NOW, error=ErrorKind.CONNECTION), Trigger.MANUAL, 0, DeliveryStatus.FAILED),
    ],
)
@override_settings(WEBHOOKS_MAX_RETRIES=3)
def test_the_outcome_table_of_spec_section_4(outcome, trigger, automatic, expected):
    plan = plan_outcome(outcome=outcome, trigger=trigger, automatic_attempts=automatic, now=NOW)
    assert plan.status == expected
    assert (plan.next_attempt_at is not None) == (expected == DeliveryStatus.PENDING)
    assert (plan.completed_at is not None) == (expected != DeliveryStatus.PENDING)
