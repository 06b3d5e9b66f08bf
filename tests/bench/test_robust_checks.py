"""The robustness scenarios' judges (bench/robust_checks.py) on synthetic request logs, and the
receiver that writes those logs (bench/robust_receiver.py). No figure is asserted here."""

import socket
import time

import pytest
import requests

from bench.robust_checks import double_sends, latency_summary, p99_ratio, unrecorded_requests
from bench.robust_receiver import Logged, RobustReceiver

H = "/healthy/h"


def sent(at: float, end: float | None, status: int | None, *, wid: str = "msg_1", path: str = H) -> Logged:
    return Logged(webhook_id=wid, path=path, arrived=at, ended=end, status=status)


def test_two_requests_of_one_delivery_in_flight_at_once_are_a_double_send():
    # given a request still unanswered when a second one of the same delivery arrives
    log = [sent(10.0, 13.0, 200), sent(12.0, 12.5, 200)]
    # when the log is judged, then it is one double send, for overlapping
    found = double_sends(log)
    assert [(d["delivery"], d["why"]) for d in found] == [((H, "msg_1"), "overlap")]


def test_a_request_after_a_2xx_answer_is_a_double_send_but_one_after_a_503_is_a_retry():
    # given a delivery answered 200 then sent again, and another answered 503 then retried
    log = [
        sent(1.0, 1.1, 200, wid="ok"),
        sent(5.0, 5.1, 200, wid="ok"),
        sent(1.0, 1.1, 503, wid="flaky"),
        sent(3.0, 3.1, 200, wid="flaky"),
    ]
    # then only the re-send after the 2xx counts
    assert [(d["delivery"][1], d["why"]) for d in double_sends(log)] == [("ok", "after_2xx")]


def test_one_webhook_id_on_two_channels_is_two_deliveries():
    # given one event sent at the same moment to two channels (same webhook-id, two paths)
    log = [sent(1.0, 2.0, 200, path="/slow/3/a"), sent(1.0, 2.0, 200, path="/slow/3/b")]
    # then nothing is a double send
    assert double_sends(log) == []


def test_a_request_that_never_ended_overlaps_everything_after_it():
    log = [sent(1.0, None, None), sent(100.0, 100.1, 200)]
    assert [d["why"] for d in double_sends(log)] == ["overlap"]


def test_the_re_send_of_a_delivery_in_flight_on_the_killed_worker_is_exempt():
    # given a delivery whose first request was open on the worker killed at t=10, re-sent at t=40
    key = (H, "msg_1")
    log = [sent(9.0, 10.0, None), sent(40.0, 40.1, 200)]
    # when it is exempt (its attempt row was open at the kill), then the re-send is not counted
    assert double_sends(log, exempt={key}, killed_at=10.0) == []
    # and without the exemption the same log is a double send only if it overlaps or follows a 2xx
    assert double_sends(log) == []
    answered = [sent(9.0, 9.5, 200), sent(40.0, 40.1, 200)]
    assert double_sends(answered, exempt={key}, killed_at=10.0) == []
    assert [d["why"] for d in double_sends(answered)] == ["after_2xx"]


def test_the_exemption_does_not_cover_two_sends_after_the_kill_nor_other_deliveries():
    key = (H, "msg_1")
    # given two requests of the exempt delivery, both after the kill, overlapping
    after_kill = [sent(9.0, 10.0, None), sent(40.0, 45.0, 200), sent(41.0, 41.5, 200)]
    assert [d["why"] for d in double_sends(after_kill, exempt={key}, killed_at=10.0)] == ["overlap"]
    # given another delivery answered 200 before the kill and sent again after it
    other = [sent(9.0, 9.1, 200, wid="msg_2"), sent(40.0, 40.1, 200, wid="msg_2")]
    assert [d["why"] for d in double_sends(other, exempt={key}, killed_at=10.0)] == ["after_2xx"]


def test_unrecorded_requests_are_requests_beyond_their_deliverys_attempt_rows():
    # given three requests of msg_1 with two attempt rows, and one of msg_2 with two rows (one never sent)
    log = [sent(1, 2, 503), sent(3, 4, 503), sent(5, 6, 200), sent(1, 2, 200, wid="msg_2")]
    rows = {(H, "msg_1"): 2, (H, "msg_2"): 2}
    # then one request is unrecorded; more rows than requests is allowed
    assert unrecorded_requests(log, rows) == 1
    assert unrecorded_requests(log, {**rows, (H, "msg_1"): 3}) == 0
    # and a request on a channel with no rows at all counts
    assert unrecorded_requests([sent(1, 2, 200, path="/dead/a")], rows) == 1


def test_the_p99_ratio_and_summary_are_nearest_rank():
    phase_a = [float(v) for v in range(1, 101)]  # p99 = 99
    phase_b = [2 * v for v in phase_a]  # p99 = 198
    assert p99_ratio(phase_b, phase_a) == pytest.approx(2.0)
    assert latency_summary(phase_a) == {"p50_ms": 50.0, "p99_ms": 99.0, "max_ms": 100.0, "count": 100}


@pytest.mark.integration  # starts a server
def test_the_receiver_logs_each_request_with_its_end_and_the_status_it_sent():
    with RobustReceiver() as receiver:
        # given a healthy, a slow and a flaky endpoint
        for path, n in (("/healthy/h", 1), ("/slow/0.2/a", 1), ("/flaky/a", 20)):
            for _ in range(n):
                requests.post(receiver.url(path), data=b"{}", headers={"webhook-id": "msg_r"}, timeout=5)
        # when a client hangs up on the dead endpoint after 0.3 s
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as conn:
            conn.sendall(b"POST /dead/a HTTP/1.1\r\nHost: x\r\nwebhook-id: msg_d\r\nContent-Length: 2\r\n\r\n{}")
            time.sleep(0.3)
        time.sleep(0.6)  # the handler sees the hang-up within its 0.5 s select
        log = receiver.log()
    # then every request is logged with its path, webhook-id, status and end
    healthy, slow, *flaky, dead = log
    assert (healthy.path, healthy.webhook_id, healthy.status) == ("/healthy/h", "msg_r", 200)
    assert slow.status == 200 and slow.ended - slow.arrived >= 0.2
    assert {r.status for r in flaky} == {200, 503}
    assert (dead.path, dead.webhook_id, dead.status) == ("/dead/a", "msg_d", None)
    # (its arrival is stamped once the server has read the request, a little after the client's clock started)
    assert dead.ended is not None and dead.ended - dead.arrived >= 0.2
