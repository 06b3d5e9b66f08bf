"""The fault injectors themselves behave as advertised (a fake that is not hostile proves nothing)."""

import socket

import pytest
import requests

from tests.reliability.private_redis import PrivateRedis
from tests.reliability.receivers import (
    HugeBodyReceiver,
    RecordingReceiver,
    RedirectReceiver,
    Reply,
    SilentReceiver,
)
from tests.support.receiver import wait_until


def test_the_silent_receiver_accepts_and_never_answers():
    with SilentReceiver() as silent:
        with pytest.raises(requests.ReadTimeout):
            requests.post(silent.url, json={"a": 1}, timeout=(2, 0.5))
        assert silent.connections == 1
        wait_until(lambda: silent.client_closed_after, timeout=5, message="client close seen")


def test_the_huge_body_receiver_would_send_100_mb_to_a_client_that_reads_it_all():
    with HugeBodyReceiver() as huge:
        with requests.post(huge.url, json={}, stream=True, timeout=10) as response:
            assert int(response.headers["Content-Length"]) == 100 * 1024 * 1024
            first = response.raw.read(4096)
        assert len(first) == 4096
        wait_until(huge.client_closed.is_set, timeout=10, message="client close seen by the receiver")
        assert not huge.completed


def test_the_redirect_receiver_points_elsewhere():
    with RedirectReceiver("http://127.0.0.1:9/internal") as redirect:
        response = requests.post(redirect.url, json={}, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"] == "http://127.0.0.1:9/internal"


def test_a_receiver_that_is_down_refuses_then_serves_on_the_same_port():
    receiver = RecordingReceiver(lambda r: Reply(201), listening=False)
    try:
        with pytest.raises(requests.ConnectionError):
            requests.post(receiver.url, json={}, timeout=2)
        receiver.start_listening()
        response = requests.post(receiver.url, json={}, headers={"webhook-id": "msg_1"}, timeout=5)
        assert response.status_code == 201
        assert receiver.ids() == {"msg_1": 1}
    finally:
        receiver.stop()


def test_the_recording_receiver_sees_two_requests_for_one_id_in_flight_at_once():
    import threading

    with RecordingReceiver(lambda r: Reply(200, delay=0.5)) as receiver:
        threads = [
            threading.Thread(
                target=requests.post,
                args=(receiver.url,),
                kwargs={"json": {}, "headers": {"webhook-id": "same"}, "timeout": 5},
            )
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert receiver.overlaps == ["same"]
    assert receiver.max_in_flight_per_id == 2
    assert receiver.duplicates() == 1


def test_the_private_redis_loses_everything_on_restart(tmp_path):
    private = PrivateRedis(tmp_path).start()
    try:
        assert private.port != 6379
        private.client().rpush("django_q:probe:q", b"job")
        private.restart_empty()
        assert private.client().llen("django_q:probe:q") == 0
    finally:
        private.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", private.port), timeout=1)
