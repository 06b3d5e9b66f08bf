"""django-q2 tasks of the `q2_noop_*` scenario: the naive one-task-per-delivery ceiling."""

import time
from pathlib import Path


def noop(number: int) -> None:
    """Does nothing: what is measured is django-q2 handing tasks out."""


def mark_done(path: str) -> None:
    """Queued after every no-op (the brokers are FIFO): says when the queue was drained."""
    Path(path).write_text(repr(time.time()))
