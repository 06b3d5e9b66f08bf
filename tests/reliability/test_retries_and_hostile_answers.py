"""Retries on time, hostile answers, a channel deleted mid-send and cookies, through a real qcluster.

Issue 16 saw, on the engine before its rework: retries with delays of 2, 4 and 8 s arriving at
0.5, 2.6, 26.1 and 35.2 s (later retries waited for the once-a-minute sweeper); 95 response
headers of 65,000 bytes stored whole (6.2 MB per attempt) and a 400-digit ``Retry-After``
turning a retryable 503 into an ``internal`` failure; a channel deleted while its deliveries
were being sent rolling back another channel's outcomes (16 requests for 8); and a cookie set by
one channel's endpoint sent to another channel on the same host. The engine-level versions of
these are in tests/engine/; these run them end to end, with receivers counted against attempts.
"""

import json
import threading
import time

import pytest

from channels.models import Channel
from deliveries.models import Attempt, Delivery, DeliveryStatus
from tests.reliability.conftest import emit_many, poll, report, unrecorded_requests
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(300)]

OTHER_KEY = "product.conflict"


def _fail_first(n: int, reply: Reply):
    """A reply function: ``reply`` to the first ``n`` requests of each delivery, then 200."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def answer(request):
        with lock:
            seen[request.webhook_id] = seen.get(request.webhook_id, 0) + 1
            return reply if seen[request.webhook_id] <= n else Reply()

    return answer


def _watch_due_times(stop: threading.Event, dues: dict[int, set[float]]) -> None:
    """Record every ``next_attempt_at`` the pending deliveries show, ten times a second."""
    from django.db import connection

    try:
        while not stop.wait(0.1):
            pending = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
            for pk, due in pending.values_list("pk", "next_attempt_at"):
                dues.setdefault(pk, set()).add(due.timestamp())
    finally:
        connection.close()


def _lateness(receiver: Receiver, dues: dict[int, set[float]]) -> list[float]:
    """For every retry, seconds between the due time it was given and its arrival at the receiver."""
    wall_offset = time.time() - time.monotonic()
    by_event = {str(d.event_id): d.pk for d in Delivery.objects.all()}
    lateness = []
    for webhook_id in receiver.ids():
        arrivals = sorted(r.arrived + wall_offset for r in receiver.requests if r.webhook_id == webhook_id)
        # A new delivery is pending (due at once) before its first attempt too: the watcher sees
        # that due time unless the first send was quicker than its tenth of a second.
        due_times = sorted(dues.get(by_event[webhook_id], ()))
        assert len(arrivals) - 1 <= len(due_times) <= len(arrivals), (webhook_id, due_times, arrivals)
        retry_dues = due_times[len(due_times) - (len(arrivals) - 1) :]
        lateness += [arrival - due for arrival, due in zip(arrivals[1:], retry_dues, strict=True)]
    return lateness


def test_retries_start_within_2_s_of_their_due_time(postback_to, clusters, bind_queue):
    with Receiver(default=_fail_first(3, Reply(503))) as receiver:
        # Given an endpoint answering 503 three times to each delivery, then 200, retry delays of
        # 2, 4 and 8 s (each spread over half to one and a half times itself), and a cluster
        channel = postback_to(receiver.url(), name="flaky", timeout=5)
        cluster = bind_queue(clusters(workers=2, env={"WEBHOOKS_RETRY_DELAYS": "2,4,8", "WEBHOOKS_TIMEOUT_S": "5"}))
        cluster.start()
        dues: dict[int, set[float]] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=_watch_due_times, args=(stop, dues), daemon=True)
        watcher.start()

        # When ten events are emitted
        emit_many(10, per_transaction=10)
        try:
            poll(
                lambda: Delivery.objects.filter(channel=channel, status=DeliveryStatus.SUCCEEDED).count() == 10,
                timeout=120,
                message="every delivery succeeded on its fourth attempt",
            )
        finally:
            stop.set()
            watcher.join()
        lateness = _lateness(receiver, dues)
        figures = report(
            "Retries with delays of 2, 4 and 8 s: arrival after the due time",
            retries=len(lateness),
            max_late_s=round(max(lateness), 3),
            median_late_s=round(sorted(lateness)[len(lateness) // 2], 3),
            unrecorded_requests=unrecorded_requests(receiver),
        )

    # Then every delivery was tried four times, each retry within 2 s of its due time, never early
    assert sorted(receiver.ids().values()) == [4] * 10, figures
    assert len(lateness) == 30, figures
    assert all(-0.05 < late < 2.0 for late in lateness), figures
    assert figures["unrecorded_requests"] == 0, figures


HEADER_BOMB = {f"X-Bomb-{i}": "b" * 65_000 for i in range(95)}
JUNK_RETRY_AFTER = "9" * 400


def test_header_reason_and_retry_after_bombs_are_stored_bounded_and_the_503_is_retried(
    postback_to, clusters, bind_queue
):
    bomb = Reply(503, headers={**HEADER_BOMB, "Retry-After": JUNK_RETRY_AFTER}, reason="R" * 60_000)
    with Receiver(default=_fail_first(1, bomb)) as receiver:
        # Given an endpoint whose first answer to each delivery is a 503 with 95 headers of
        # 65,000 bytes, a 60,000-character reason phrase and a 400-digit Retry-After, then 200
        postback_to(receiver.url(), name="bomber", timeout=5)
        cluster = bind_queue(clusters(workers=2, env={"WEBHOOKS_RETRY_DELAYS": "1,1,1"}))
        cluster.start()

        # When five events are emitted
        emit_many(5, per_transaction=5)
        poll(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 5,
            timeout=90,
            message="every delivery succeeded on its retry",
        )
        first = list(Attempt.objects.filter(number=1))
        stored_headers = max(len(json.dumps(a.response_headers)) for a in first)
        stored_detail = max(len(a.error_detail) for a in first)
        figures = report(
            "503 with 95 x 65,000-byte headers, a 60,000-character reason and a 400-digit Retry-After",
            requests=len(receiver.requests),
            largest_stored_headers_bytes=stored_headers,
            largest_error_detail_chars=stored_detail,
            first_attempt_errors=sorted({a.error for a in first}),
            unrecorded_requests=unrecorded_requests(receiver),
        )

    # Then the first attempts were recorded as HTTP 503s (not internal errors), within bounds
    assert [a.response_status for a in first] == [503] * 5, figures
    assert all(a.error != "internal" for a in first), figures
    assert stored_headers <= 8 * 1024 + 512, figures  # 8 KiB of headers, plus the JSON around them
    assert stored_detail <= 300, figures
    # and the junk Retry-After was ignored: each was retried after its ordinary delay and succeeded
    assert sorted(receiver.ids().values()) == [2] * 5, figures
    assert figures["unrecorded_requests"] == 0, figures


def test_a_channel_deleted_while_its_deliveries_are_in_flight_does_not_resend_another_channels(
    postback_to, clusters, bind_queue
):
    released = threading.Event()
    with Receiver(default=Reply(hold=released, hold_max=30)) as held, Receiver() as other:
        # Given a channel whose endpoint holds its answers, and another channel answering at once
        doomed = postback_to(held.url(), name="doomed", timeout=30)
        kept = postback_to(other.url(), name="kept", timeout=30, key=OTHER_KEY)
        cluster = bind_queue(clusters(workers=2, env={"WEBHOOKS_TIMEOUT_S": "30"}))
        cluster.start()
        emit_many(8, per_transaction=8)
        poll(lambda: len(held.requests) >= 4, timeout=60, message="the doomed channel's sends are in flight")

        # When the other channel's 8 deliveries are answered 200 while the doomed channel's wait
        emit_many(8, per_transaction=8, key=OTHER_KEY)
        poll(
            lambda: Delivery.objects.filter(channel=kept, status=DeliveryStatus.SUCCEEDED).count() == 8,
            timeout=60,
            message="the kept channel's deliveries succeeded",
        )
        # and the doomed channel is deleted mid-send, then its endpoint answers
        Channel.objects.filter(pk=doomed.pk).delete()
        released.set()
        time.sleep(3)
        # and the kept channel gets more traffic afterwards
        emit_many(4, per_transaction=4, key=OTHER_KEY)
        poll(lambda: len(other.ids()) == 12, timeout=60, message="the kept channel still gets its events")
        time.sleep(2)
        figures = report(
            "A channel deleted while 8 of its sends are held, beside a channel answering 200",
            doomed_requests=len(held.requests),
            kept_requests=len(other.requests),
            kept_succeeded=Delivery.objects.filter(channel=kept, status=DeliveryStatus.SUCCEEDED).count(),
            doomed_rows_left=Delivery.objects.filter(channel_id=doomed.pk).count(),
            unrecorded_requests=unrecorded_requests(other),
        )

    # Then the kept channel's deliveries were each sent once and stay succeeded
    assert sorted(other.ids().values()) == [1] * 12, figures
    assert figures["kept_succeeded"] == 12 and figures["unrecorded_requests"] == 0, figures
    # and nothing of the deleted channel is left to send
    assert figures["doomed_rows_left"] == 0, figures
    assert "Traceback" not in cluster.log(), cluster.log()[-3000:]


def test_a_cookie_set_by_one_channels_endpoint_reaches_no_other_request(postback_to, clusters, bind_queue):
    with Receiver(default=Reply(headers={"Set-Cookie": "session=from-first; Path=/"})) as receiver:
        # Given two channels on the same host whose endpoint sets a cookie on every answer
        first = postback_to(receiver.url("/first"), name="first")
        second = postback_to(receiver.url("/second"), name="second", key=OTHER_KEY)
        cluster = bind_queue(clusters(workers=2))
        cluster.start()

        # When both get events, in turns, over one cluster's sessions
        for _ in range(3):
            emit_many(5, per_transaction=5)
            emit_many(5, per_transaction=5, key=OTHER_KEY)
            time.sleep(0.5)
        poll(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 30,
            timeout=60,
            message="every delivery succeeded",
        )
        cookies = [r.headers.get("cookie") for r in receiver.requests if r.headers.get("cookie")]
        figures = report(
            "Two channels on one host whose endpoint sets a cookie",
            requests={c.name: Attempt.objects.filter(delivery__channel=c).count() for c in (first, second)},
            requests_with_cookie=len(cookies),
        )

    # Then no request carried a cookie back: not to the other channel, nor to the one that set it
    assert len(receiver.requests) == 30, figures
    assert cookies == [], figures
