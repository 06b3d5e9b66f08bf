"""django-q2's task queue, killed worker and all: the stdlib queue wedges, ``SafeQueue`` does not."""

import multiprocessing
import os
import signal
import time

import pytest

from deliveries.engine.safe_queue import SafeQueue


def _reader(queue, out):
    while True:
        out.put(queue.get())


def _kill_an_idle_reader_then_hand_a_job_to_its_replacement(queue) -> bool:
    """True when the replacement reader got the job within 3 s."""
    out = multiprocessing.SimpleQueue()
    idle = multiprocessing.Process(target=_reader, args=(queue, out), daemon=True)
    idle.start()
    time.sleep(0.5)  # the reader is now waiting inside get()
    os.kill(idle.pid, signal.SIGKILL)
    idle.join()
    replacement = multiprocessing.Process(target=_reader, args=(queue, out), daemon=True)
    replacement.start()
    queue.put("job")
    deadline = time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            if not out.empty():
                return out.get() == "job"
            time.sleep(0.02)
        return False
    finally:
        replacement.kill()


def test_the_stdlib_queue_wedges_when_an_idle_reader_is_killed():
    # The bug SafeQueue exists for (django-q2 workers wait exactly like this). If this ever
    # starts passing, Python fixed multiprocessing.Queue and SafeQueue can go.
    assert not _kill_an_idle_reader_then_hand_a_job_to_its_replacement(multiprocessing.Queue())


def test_safe_queue_keeps_working_when_an_idle_reader_is_killed():
    assert _kill_an_idle_reader_then_hand_a_job_to_its_replacement(SafeQueue())


def test_safe_queue_get_with_a_timeout_raises_empty_and_keeps_its_size():
    from queue import Empty

    queue = SafeQueue()
    with pytest.raises(Empty):
        queue.get(timeout=0.1)
    queue.put({"a": 1})
    assert queue.qsize() == 1
    assert queue.get(timeout=2) == {"a": 1}
    assert queue.qsize() == 0
