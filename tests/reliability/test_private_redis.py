"""The private Redis of the broker-loss test behaves as advertised (a fake that is not hostile proves nothing)."""

import socket

import pytest

from tests.reliability.private_redis import PrivateRedis

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


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
