import pytest


@pytest.fixture(autouse=True)
def _no_kicks(monkeypatch):
    """Engine tests drive the dispatcher themselves; on_commit kicks are counted, not queued."""
    kicks = []
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: kicks.append(1))
    return kicks


@pytest.fixture
def kicks(_no_kicks):
    return _no_kicks


@pytest.fixture
def catalogue(transactional_db):
    from tests.support.factories import ensure_catalogue

    ensure_catalogue()
