"""The test receiver itself behaves as advertised (a fake that is not hostile proves nothing)."""

import gzip
import threading
import time

import pytest
import requests

from tests.support.receiver import Receiver, Reply, wait_until


def test_a_receiver_records_each_request_and_answers_as_told_per_path(receiver):
    receiver.reply("/teapot", Reply(status=418, body=b"short and stout", headers={"X-Kind": "teapot"}))

    ok = requests.post(receiver.url("/hook"), data=b'{"a": 1}', headers={"webhook-id": "msg_1"}, timeout=5)
    teapot = requests.post(receiver.url("/teapot?x=1"), data=b"{}", timeout=5)

    assert (ok.status_code, ok.text) == (200, "ok")
    assert (teapot.status_code, teapot.text, teapot.headers["X-Kind"]) == (418, "short and stout", "teapot")
    first, second = receiver.requests
    assert first.json == {"a": 1} and first.webhook_id == "msg_1" and first.arrived <= first.answered
    assert [r.path for r in receiver.on("/teapot")] == ["/teapot?x=1"]
    assert receiver.ids() == {"msg_1": 1, "": 1} and receiver.in_flight == 0


def test_stopping_a_receiver_takes_no_poll_interval_even_with_a_kept_alive_connection():
    receiver = Receiver().start()
    with requests.Session() as session:
        session.post(receiver.url(), data=b"{}", timeout=5)  # the connection stays open (keep-alive)
        started = time.monotonic()

        receiver.stop()

        assert time.monotonic() - started < 0.2
        with pytest.raises(requests.ConnectionError):
            requests.post(receiver.url(), data=b"{}", timeout=2)


def test_a_silent_reply_accepts_and_never_answers_and_sees_the_client_hang_up():
    with Receiver(default=Reply(silent=True)) as silent:
        with pytest.raises(requests.ReadTimeout):
            requests.post(silent.url(), json={"a": 1}, timeout=(2, 0.5))

        [request] = wait_until(lambda: [r for r in silent.requests if r.hung_up], timeout=5, message="hang-up seen")
        assert silent.connections == 1 and 0.4 < request.client_stayed < 5


def test_a_huge_body_reply_would_send_100_mb_to_a_client_that_reads_it_all():
    with Receiver(default=Reply(body_size=100 * 1024 * 1024)) as huge:
        with requests.post(huge.url(), json={}, stream=True, timeout=10) as response:
            assert int(response.headers["Content-Length"]) == 100 * 1024 * 1024
            first = response.raw.read(4096)
        assert len(first) == 4096

        [request] = wait_until(lambda: [r for r in huge.requests if r.hung_up], timeout=10, message="hang-up seen")
        assert 4096 <= request.bytes_sent < 16 * 1024 * 1024


def test_a_trickling_reply_keeps_each_read_short_so_only_a_deadline_on_the_whole_answer_stops_it():
    with Receiver(default=Reply(trickle_every=0.05, trickle_for=0.5)) as trickle:
        started = time.monotonic()

        response = requests.post(trickle.url(), json={}, timeout=(2, 0.3))  # no read waits 0.3 s

        assert response.status_code == 200 and response.headers["X-Slow"].startswith("aaa")
        assert time.monotonic() - started >= 0.5


def test_a_redirect_and_a_gzip_bomb_are_ordinary_replies(receiver):
    receiver.reply("/redirect", Reply(status=302, headers={"Location": "http://127.0.0.1:9/internal"}))
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024), compresslevel=9)
    receiver.reply("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))

    redirect = requests.post(receiver.url("/redirect"), json={}, allow_redirects=False, timeout=5)
    with requests.post(receiver.url("/bomb"), json={}, stream=True, timeout=5) as response:
        wire = int(response.headers["Content-Length"])
        inflated = len(response.content)

    assert redirect.status_code == 302 and redirect.headers["Location"] == "http://127.0.0.1:9/internal"
    assert wire < 100 * 1024 and inflated == 10 * 1024 * 1024


def test_a_receiver_not_started_refuses_then_serves_on_the_same_port():
    receiver = Receiver(default=Reply(status=201))
    try:
        with pytest.raises(requests.ConnectionError):
            requests.post(receiver.url(), json={}, timeout=2)
        receiver.start()
        response = requests.post(receiver.url(), json={}, headers={"webhook-id": "msg_1"}, timeout=5)
        assert response.status_code == 201
        assert receiver.ids() == {"msg_1": 1}
    finally:
        receiver.stop()


def test_a_held_reply_waits_for_its_release():
    release = threading.Event()
    with Receiver(default=Reply(hold=release)) as receiver:
        answers = []
        client = threading.Thread(target=lambda: answers.append(requests.post(receiver.url(), timeout=5)))
        client.start()
        wait_until(lambda: receiver.in_flight == 1, timeout=5, message="the request to be held")
        assert answers == [] and not receiver.requests[0].answered

        release.set()

        client.join(timeout=5)
        assert answers[0].status_code == 200 and receiver.in_flight == 0


def test_the_receiver_sees_two_requests_for_one_id_in_flight_at_once():
    release = threading.Event()
    with Receiver(default=Reply(hold=release)) as receiver:
        threads = [
            threading.Thread(
                target=requests.post,
                args=(receiver.url(),),
                kwargs={"json": {}, "headers": {"webhook-id": "same"}, "timeout": 5},
            )
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        wait_until(lambda: receiver.in_flight == 2, timeout=5, message="both requests in flight")
        release.set()
        for t in threads:
            t.join()
        requests.post(receiver.url(), headers={"webhook-id": "once"}, timeout=5)
        requests.post(receiver.url(), headers={"webhook-id": "after"}, timeout=5)
        requests.post(receiver.url(), headers={"webhook-id": "after"}, timeout=5)

    assert receiver.overlapping_ids() == ["same"]  # "after" came twice, one after the other
    assert receiver.duplicates() == 2
