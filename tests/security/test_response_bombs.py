"""A receiver's answer cannot exhaust the sender's memory (SPEC section 2: "the first 4 KiB of body").

Measured in-process with tracemalloc around one real test send: a compression bomb
(100 KB gzip that inflates to 100 MB) must not be inflated beyond what is stored.
"""

import tracemalloc

import pytest

from deliveries.models import ErrorKind
from deliveries.services import send_test_event
from tests.reliability.receivers import GzipBombReceiver, HugeBodyReceiver
from tests.support.factories import postback_channel

pytestmark = pytest.mark.django_db

MEMORY_BOUND = 16 * 1024 * 1024  # far below the 100 MB a careless reader would hold


@pytest.mark.parametrize("make_receiver", [GzipBombReceiver, HugeBodyReceiver], ids=["gzip-bomb", "100-mb-body"])
def test_a_huge_or_compressed_answer_is_read_only_up_to_4_kib(make_receiver):
    with make_receiver() as receiver:
        channel = postback_channel(receiver.url, name="bomb", timeout=5)
        tracemalloc.start()
        try:
            attempt = send_test_event(channel=channel)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert attempt.response_status == 200 and attempt.error in ("", None), (attempt.error, attempt.error_detail)
    assert len(attempt.response_body.encode()) <= 4096
    assert peak < MEMORY_BOUND, f"peak Python allocation during the send: {peak / 1e6:.1f} MB"
    assert attempt.error != ErrorKind.INTERNAL
