"""What the log and the delivery page say about a delivery: plain-language reasons and what happens next."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from deliveries.explain import reason_sentence, status_line
from deliveries.models import BreakerState, DeliveryStatus, ErrorKind, Trigger

NOW = timezone.now()


def a_delivery(**fields):
    defaults = {
        "status": DeliveryStatus.PENDING,
        "attempt_count": 0,
        "automatic_attempts": 0,
        "next_attempt_at": NOW,
        "pending_trigger": Trigger.AUTOMATIC,
        "last_error": "",
        "last_response_status": None,
        "failure_reason": "",
        "channel": SimpleNamespace(timeout=30),
    }
    return SimpleNamespace(**{**defaults, **fields})


@pytest.mark.parametrize(
    "error, status, detail, expected",
    [
        (ErrorKind.TIMEOUT, None, "ReadTimeout: ...", "The endpoint did not answer within 30 s."),
        (
            ErrorKind.CONNECTION,
            None,
            "ConnectionError: [Errno 111] Connection refused",
            "The endpoint refused the connection.",
        ),
        (
            ErrorKind.CONNECTION,
            None,
            "ConnectionError: _AttemptPool(host=...) Max retries",
            "Could not connect to the endpoint.",
        ),
        (ErrorKind.DNS, None, "NameResolutionError", "The endpoint's host name could not be found (DNS)."),
        (ErrorKind.HTTP_STATUS, 404, "", "The endpoint answered 404 Not Found."),
        (ErrorKind.HTTP_STATUS, 599, "", "The endpoint answered 599."),
        (ErrorKind.CHANNEL_INACTIVE, None, "The channel 'x' is inactive.", "Not sent: the channel is deactivated."),
        (ErrorKind.INTERNAL, None, "KeyError: 'order'", "An internal error stopped the send."),
        ("", 200, "", ""),
    ],
)
def test_reasons_are_plain_language_and_never_the_exception_text(error, status, detail, expected):
    reason = reason_sentence(error=error, response_status=status, detail=detail, timeout_s=30)

    assert reason == expected
    assert "Error:" not in reason and "Max retries" not in reason


def test_a_delivery_waiting_for_its_retry_says_when_and_why_not_pending():
    delivery = a_delivery(
        attempt_count=1,
        automatic_attempts=1,
        next_attempt_at=NOW + timedelta(minutes=9),
        last_error=ErrorKind.HTTP_STATUS,
        last_response_status=503,
    )

    line = status_line(delivery, now=NOW)

    assert line.text == "Retrying, next attempt in 9 min (3 retries left)"
    assert line.tone == "waiting"
    assert line.reason == "The endpoint answered 503 Service Unavailable."
    assert "Pending" not in line.text


def test_a_failure_says_how_many_attempts_and_that_no_retry_follows():
    delivery = a_delivery(
        status=DeliveryStatus.FAILED,
        attempt_count=4,
        automatic_attempts=4,
        next_attempt_at=None,
        last_error=ErrorKind.HTTP_STATUS,
        last_response_status=404,
    )

    line = status_line(delivery, now=NOW)

    assert line.text == "Failed after 4 attempts, no automatic retry: the endpoint answered 404 Not Found"
    assert line.tone == "failed"


def test_a_delivery_held_back_by_the_breaker_says_the_channel_is_cooling_off():
    breaker = SimpleNamespace(state=BreakerState.OPEN, open_until=NOW + timedelta(minutes=2))
    delivery = a_delivery(attempt_count=2, automatic_attempts=2, last_error=ErrorKind.TIMEOUT)

    line = status_line(delivery, now=NOW, breaker=breaker)

    assert line.text == "Waiting: the channel is cooling off, next attempt in 2 min"
    assert line.reason == "The endpoint did not answer within 30 s."


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"status": DeliveryStatus.SUCCEEDED, "attempt_count": 1}, "Delivered"),
        ({"status": DeliveryStatus.SUCCEEDED, "attempt_count": 3}, "Delivered after 3 attempts"),
        ({}, "Queued, first attempt now"),
        ({"pending_trigger": Trigger.MANUAL, "attempt_count": 4}, "Manual retry queued, sending now"),
        ({"status": DeliveryStatus.SENDING, "attempt_count": 1}, "Sending now (attempt 2)"),
        (
            {"status": DeliveryStatus.FAILED, "attempt_count": 0, "last_error": ErrorKind.CHANNEL_INACTIVE},
            "Not sent: the channel is deactivated; no automatic retry",
        ),
    ],
)
def test_every_state_says_what_happens_next(fields, expected):
    assert status_line(a_delivery(**fields), now=NOW).text == expected


def test_one_date_format_relative_with_the_exact_time_on_hover():
    from common.timefmt import exact_time, relative_time, staff_time_html

    moment = NOW - timedelta(minutes=9)

    assert relative_time(moment, now=NOW) == "9 min ago"
    assert relative_time(NOW + timedelta(hours=3), now=NOW) == "in 3 h"
    assert (
        relative_time(NOW - timedelta(days=30), now=NOW)
        == f"{timezone.localtime(NOW - timedelta(days=30)):%Y-%m-%d %H:%M}"
    )
    html = staff_time_html(moment, now=NOW)
    assert f'title="{exact_time(moment)}"' in html and exact_time(moment).endswith(" UTC")
    assert len(exact_time(moment).split(" ")[1]) == 8  # with seconds
