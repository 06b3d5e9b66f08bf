import pytest

from tests.support.qcluster import QCluster

# Short timeouts in the cluster, so a dead worker's lease (start grace + timeout + margin: 20 s) expires within a test.
CLUSTER_ENV = {"WEBHOOKS_TIMEOUT_S": "5"}


@pytest.fixture
def catalogue(transactional_db):
    from tests.support.factories import ensure_catalogue

    ensure_catalogue()


@pytest.fixture
def clusters():
    """Clusters a test starts; all killed at the end whatever happened (their log printed on failure)."""
    started: list[QCluster] = []

    def make(**kwargs) -> QCluster:
        cluster = QCluster(env={**CLUSTER_ENV, **kwargs.pop("env", {})}, **kwargs)
        cluster.route_kicks_here()  # kicks of events emitted before start() wait in its queue
        started.append(cluster)
        return cluster

    yield make
    for cluster in started:
        cluster.kill()
