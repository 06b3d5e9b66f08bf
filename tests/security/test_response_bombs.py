"""A receiver's answer cannot exhaust the sender's memory (SPEC section 2: "the first 4 KiB of body").

Measured in-process with tracemalloc around one real test send: a compression bomb
(100 KB gzip that inflates to 100 MB) must not be inflated beyond what is stored.
"""

import gzip
import tracemalloc

import pytest

from deliveries.models import ErrorKind
from deliveries.services import send_test_event
from tests.support.factories import postback_channel
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

MEMORY_BOUND = 16 * 1024 * 1024  # far below the 100 MB a careless reader would hold


def gzip_bomb() -> Reply:
    """About 100 KB on the wire, 100 MB once inflated."""
    body = gzip.compress(b"\0" * (100 * 1024 * 1024), compresslevel=9)
    return Reply(body=body, headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"})


def huge_body() -> Reply:
    return Reply(body_size=100 * 1024 * 1024, headers={"Content-Type": "text/plain"})


@pytest.mark.parametrize("answer", [gzip_bomb, huge_body], ids=["gzip-bomb", "100-mb-body"])
def test_a_huge_or_compressed_answer_is_read_only_up_to_4_kib(answer):
    with Receiver(default=answer()) as receiver:
        channel = postback_channel(receiver.url(), name="bomb", timeout=5)
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


def test_a_binary_answer_with_nul_bytes_is_recorded_and_does_not_sink_the_batch(db):
    """Any receiver may answer with binary (an image, a protobuf): NUL bytes in the stored
    4 KiB must not stop the attempt, or the other deliveries saved with it, from being recorded
    (PostgreSQL text cannot hold NUL)."""
    from deliveries.engine.dispatcher import Dispatcher
    from deliveries.models import Delivery, DeliveryStatus
    from events.services import emit
    from tests.support.factories import subscribe

    with (
        Receiver(default=Reply(status=200, body=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00binary")) as binary,
        Receiver() as healthy,
    ):
        subscribe(postback_channel(binary.url("/png"), name="binary"), "contact.created")
        subscribe(postback_channel(healthy.url("/ok"), name="healthy"), "contact.created")
        for i in range(5):
            emit("contact.created", source="shop", payload={"contact": {"id": f"C-{i}"}})

        Dispatcher(threads=4).run(budget_s=10)

    statuses = list(Delivery.objects.values_list("channel__name", "status"))
    assert all(status == DeliveryStatus.SUCCEEDED for _, status in statuses), statuses
    binary_attempts = Delivery.objects.filter(channel__name="binary", attempt_count=1).count()
    assert binary_attempts == 5
    assert len(binary.requests) == 5 and len(healthy.requests) == 5
