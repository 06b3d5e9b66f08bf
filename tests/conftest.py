import os

import pytest

from tests.support.receiver import Receiver

# Tests with these marks start real processes (qcluster, redis-server, Chromium, ...) and some
# measure time: under xdist they run one after another on one worker, beside the in-process tests.
REAL_PROCESS_MARKS = ("integration", "browser", "reliability")


def pytest_collection_modifyitems(config, items):
    in_xdist_worker = "PYTEST_XDIST_WORKER" in os.environ
    for item in items:
        if any(item.get_closest_marker(mark) for mark in REAL_PROCESS_MARKS):
            item.add_marker(pytest.mark.xdist_group("real-processes"))
        if in_xdist_worker and item.get_closest_marker("exclusive"):
            item.add_marker(pytest.mark.skip(reason="must run alone: `make test` runs it after the parallel pass"))


@pytest.fixture
def receiver():
    """A real HTTP receiver on 127.0.0.1, started; ``receiver.url("/hook")``, ``receiver.requests``."""
    with Receiver() as r:
        yield r


@pytest.fixture
def event_type(db):
    """An enabled standard event type from the catalogue, with no schema."""
    from events.models import EventType

    et = EventType.objects.get(key="contact.created")
    et.enabled = True
    et.save(update_fields=["enabled"])
    return et


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions killed subprocesses may have left on it.

    A qcluster SIGKILLed by a reliability test can leave its PostgreSQL session alive for a
    moment; DROP DATABASE would then fail ("being accessed by other users").
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
