import os

import pytest

from tests.support.receiver import Receiver


def pytest_collection_modifyitems(config, items):
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    for item in items:
        if item.get_closest_marker("exclusive"):
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
    et.payload_schema = None  # the catalogue documents its payload; these tests send any payload
    et.save(update_fields=["enabled", "payload_schema"])
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
