"""SPEC sections 4 and 5 against hostile endpoints, through a real qcluster.

- accepts and never answers: the channel's timeout is honoured, the delivery fails as
  ``timeout`` and is not retried (seed 004);
- answers a 100 MB body: at most 4 KiB is read and stored, the worker is not held;
- redirects to an internal address: the redirect is not followed;
- answers one byte at a time, forever: the timeout bounds the whole attempt, not each read,
  and the delivery is never sent a second time while the first attempt is still running.
"""

import time

import pytest

from deliveries.models import Attempt, BreakerState, ChannelBreaker, Delivery, DeliveryStatus, ErrorKind
from tests.reliability.conftest import emit_many, poll, report
from tests.support.receiver import Receiver, Reply, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(240)]

TIMEOUT_S = 2


def _final(channel):
    return Delivery.objects.filter(
        channel=channel, status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED]
    ).first()


def _hostile_figures(started, silent, huge, redirect, healthy_d) -> dict:
    """The RELIABILITY line of the silent / huge / redirect test, from what each receiver saw."""
    silent_d, silent_attempt, silent_request = silent
    huge_d, huge_attempt, huge_request = huge
    redirect_d, redirect_attempt, canary = redirect
    return report(
        "Hostile receivers (silent, 100 MB body, redirect to internal)",
        silent={
            "status": silent_d.status,
            "error": silent_d.last_error,
            "attempts": silent_d.attempt_count,
            "duration_ms": silent_attempt.duration_ms,
            "receiver_saw_hang_up_after_s": round(silent_request.client_stayed, 2),
        },
        huge={
            "status": huge_d.status,
            "stored_body_bytes": len(huge_attempt.response_body.encode()),
            "bytes_the_receiver_got_out": huge_request.bytes_sent,
            "duration_ms": huge_attempt.duration_ms,
        },
        redirect={
            "status": redirect_d.status,
            "response_status": redirect_d.last_response_status,
            "attempts": redirect_d.attempt_count,
            "internal_target_hits": len(canary.requests),
            "recorded_status": redirect_attempt.response_status,
        },
        healthy_status=healthy_d.status,
        seconds=round(time.monotonic() - started, 1),
        lost=0 if healthy_d.status == DeliveryStatus.SUCCEEDED else 1,
        duplicates=0,
    )


def _assert_silent_timed_out_once_and_huge_was_cut(
    silent_d, silent_attempt, silent_request, silent_connections, huge_d, huge_attempt, huge_request, figures
):
    assert silent_d.status == DeliveryStatus.FAILED and silent_d.last_error == ErrorKind.TIMEOUT, figures
    assert silent_d.attempt_count == 1 and silent_connections == 1, figures
    assert silent_d.failure_reason
    assert TIMEOUT_S * 1000 * 0.9 <= silent_attempt.duration_ms < (TIMEOUT_S + 5) * 1000, figures
    assert silent_request.client_stayed < TIMEOUT_S + 5, figures

    assert huge_d.status == DeliveryStatus.SUCCEEDED, figures
    assert len(huge_attempt.response_body.encode()) <= 4096, figures
    assert huge_request.bytes_sent < 16 * 1024 * 1024, figures


def test_silent_huge_and_redirecting_receivers_are_bounded_and_not_followed(postback_to, clusters, bind_queue):
    with (
        Receiver(default=Reply(silent=True)) as silent,
        Receiver(default=Reply(body_size=100 * 1024 * 1024)) as huge,
        Receiver() as canary,
        Receiver() as healthy,
        Receiver() as redirect,
    ):
        # a redirect to an internal address that records any visit
        redirect.default = Reply(status=302, headers={"Location": canary.url("/internal"), "Connection": "close"})
        silent_channel = postback_to(silent.url(), name="silent", timeout=TIMEOUT_S)
        huge_channel = postback_to(huge.url(), name="huge", timeout=TIMEOUT_S)
        redirect_channel = postback_to(redirect.url(), name="redirect", timeout=TIMEOUT_S)
        healthy_channel = postback_to(healthy.url("/hook"), name="healthy", timeout=TIMEOUT_S)
        cluster = bind_queue(clusters(workers=2))
        cluster.start()

        # When one event goes to all four
        started = time.monotonic()
        emit_many(1)
        channels = [silent_channel, huge_channel, redirect_channel, healthy_channel]
        poll(lambda: all(_final(c) for c in channels), timeout=90, message="every delivery final")
        silent_d, huge_d, redirect_d, healthy_d = (_final(c) for c in channels)

        # Then: the silent endpoint timed out once, after the channel's timeout, and was not retried
        silent_attempt = Attempt.objects.get(delivery=silent_d)
        [silent_request] = wait_until(
            lambda: [r for r in silent.requests if r.hung_up], timeout=10, message="the receiver saw the sender hang up"
        )
        # The 100 MB answer was cut at 4 KiB; the sender hung up long before 100 MB went out
        huge_attempt = Attempt.objects.get(delivery=huge_d)
        [huge_request] = wait_until(
            lambda: [r for r in huge.requests if r.hung_up],
            timeout=10,
            message="the receiver saw the sender hang up on the 100 MB body",
        )
        # The redirect was recorded as such and not followed
        redirect_attempt = Attempt.objects.get(delivery=redirect_d)

        figures = _hostile_figures(
            started,
            (silent_d, silent_attempt, silent_request),
            (huge_d, huge_attempt, huge_request),
            (redirect_d, redirect_attempt, canary),
            healthy_d,
        )

        _assert_silent_timed_out_once_and_huge_was_cut(
            silent_d, silent_attempt, silent_request, silent.connections, huge_d, huge_attempt, huge_request, figures
        )

        assert redirect_d.status == DeliveryStatus.FAILED and redirect_d.last_response_status == 302, figures
        assert redirect_attempt.response_status == 302, figures
        assert redirect_d.last_error == ErrorKind.HTTP_STATUS and redirect_d.attempt_count == 1, figures
        assert canary.requests == [], figures
        assert redirect.connections == 1, figures

        # A slow or dead endpoint did not hold up the healthy one (SPEC section 5).
        assert healthy_d.status == DeliveryStatus.SUCCEEDED, figures


def test_an_endpoint_that_trickles_its_answer_is_cut_at_the_timeout_and_never_sent_twice_at_once(
    postback_to, clusters, bind_queue
):
    # A trickle longer than the lease (start grace + timeout + margin), so a lease that expired under the live
    # attempt would show as a second connection.
    trickle = Receiver(default=Reply(trickle_every=0.5, trickle_for=90)).start()
    try:
        channel = postback_to(trickle.url(), name="trickle", timeout=TIMEOUT_S)
        cluster = bind_queue(clusters(workers=2))
        cluster.start()
        # The sweeper schedule on duty, to take the row back if its lease ran out under the live attempt
        assert "postbacks-sweeper" in cluster.run_schedules_now()
        emit_many(1)

        # Until the delivery ends, or a second connection shows it is being sent twice at once.
        poll(
            lambda: _final(channel) or trickle.connections >= 2,
            timeout=75,
            message="the trickling delivery ends (or is sent again)",
        )
        # The receiver notices the hang-up at its next byte (within about a second).
        hung_up = poll(
            lambda: [r for r in trickle.requests if r.hung_up] or trickle.connections >= 2,
            timeout=10,
            message="the receiver saw the sender hang up (or a second connection)",
        )
        first_stayed = hung_up[0].client_stayed if isinstance(hung_up, list) else None
        connections, in_flight = trickle.connections, trickle.in_flight
    finally:
        trickle.stop()
    delivery = Delivery.objects.get(channel=channel)
    figures = report(
        "Receiver trickling its answer one byte every 0.5 s",
        status=delivery.status,
        error=delivery.last_error,
        attempts=delivery.attempt_count,
        connections=connections,
        connections_still_open=in_flight,
        first_connection_held_s=None if first_stayed is None else round(first_stayed, 1),
        timeout_s=TIMEOUT_S,
        duplicates=max(0, connections - 1),
        lost=0,
    )
    # The lease never expired under a live attempt: one connection, not a second one beside it.
    assert connections == 1, figures
    # The timeout bounds the whole attempt: the sender hung up within the timeout (plus slack).
    assert first_stayed is not None and first_stayed < TIMEOUT_S + 5, figures
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == ErrorKind.TIMEOUT, figures


def test_a_dead_endpoint_does_not_hold_up_deliveries_to_a_healthy_one(postback_to, clusters, bind_queue):
    """SPEC section 5: 40 events to an endpoint that never answers and to a healthy one.

    The per-channel cap keeps the silent endpoint to a few requests in flight, so every
    healthy delivery is done while the silent ones wait out their timeouts; then the
    breaker cools the silent channel off, and its other deliveries wait without an attempt.
    """
    with Receiver(default=Reply(silent=True)) as silent, Receiver() as healthy:
        silent_channel = postback_to(silent.url(), name="silent", timeout=TIMEOUT_S + 1)
        healthy_channel = postback_to(healthy.url("/hook"), name="healthy", timeout=TIMEOUT_S + 1)
        cluster = bind_queue(clusters(workers=2))
        cluster.start()

        emit_many(40, per_transaction=40)
        poll(
            lambda: Delivery.objects.filter(channel=healthy_channel, status=DeliveryStatus.SUCCEEDED).count() == 40,
            timeout=90,
            message="every healthy delivery succeeded",
        )
        silent_final_then = Delivery.objects.filter(channel=silent_channel, status=DeliveryStatus.FAILED).count()
        poll(
            lambda: ChannelBreaker.objects.filter(channel=silent_channel, state=BreakerState.OPEN).exists(),
            timeout=60,
            message="the silent channel's breaker opened",
        )
        poll(
            lambda: not Delivery.objects.filter(channel=silent_channel, status=DeliveryStatus.SENDING).exists(),
            timeout=30,
            message="the silent sends in flight timed out",
        )
        silent_deliveries = list(Delivery.objects.filter(channel=silent_channel))
        attempted = [d for d in silent_deliveries if d.attempt_count]
        figures = report(
            "Dead endpoint beside a healthy one (40 events each)",
            healthy_succeeded=40,
            silent_timed_out_when_healthy_were_done=silent_final_then,
            silent_connections=silent.connections,
            silent_attempted=len(attempted),
            silent_waiting_without_attempt=len(silent_deliveries) - len(attempted),
            lost=0,
            duplicates=max(0, silent.connections - len(attempted)),
        )
        assert silent_final_then < 40, figures  # the healthy ones did not wait for the dead one
        assert all(d.attempt_count <= 1 for d in silent_deliveries), figures  # timeouts are not retried
        assert silent.connections == len(attempted) < 40, figures  # the breaker stopped the rest
        assert all(d.last_error == ErrorKind.TIMEOUT for d in attempted), figures


def test_a_binary_answer_beside_a_healthy_receiver_is_recorded_once_and_nothing_is_sent_twice(
    postback_to, clusters, bind_queue
):
    """PostgreSQL cannot store NUL: an answer with one must not stop its batch from being saved,
    or every delivery in the batch would stay `sending` and be sent again after its lease."""
    with (
        Receiver(default=Reply(status=200, body=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")) as binary,
        Receiver() as healthy,
    ):
        postback_to(binary.url("/png"), name="binary")
        postback_to(healthy.url("/ok"), name="healthy")
        cluster = bind_queue(clusters(workers=2))
        cluster.start()
        started = time.monotonic()

        emit_many(20, per_transaction=20)
        poll(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 40,
            timeout=60,
            message="all 40 deliveries recorded as succeeded",
        )
        figures = report(
            "Binary answer with NUL bytes beside a healthy receiver (20 events each)",
            binary_requests=len(binary.requests),
            healthy_requests=len(healthy.requests),
            seconds=round(time.monotonic() - started, 1),
            lost=0,
            duplicates=len(binary.requests) + len(healthy.requests) - 40,
        )
        assert len(binary.requests) == 20 and len(healthy.requests) == 20, figures
        stored = Attempt.objects.filter(delivery__channel__name="binary").values_list("response_body", flat=True)
        assert all("PNG" in body for body in stored), list(stored)[:2]
        assert all("\x00" not in body for body in stored)
