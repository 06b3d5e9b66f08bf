"""Shared pieces of the fault tests: a real qcluster bound to this test's queue, bulk emits,
polling the database through faults, and the figures each test reports.

Every figure a test measures is printed (``RELIABILITY {...}``) and appended to
``var/reliability-figures.jsonl``; docs/RELIABILITY.md is filled from those lines.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction
from django.db.utils import InterfaceError
from django_q.conf import Conf

from tests.support.qcluster import QCluster
from tests.support.receiver import wait_until

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "var" / "reliability-figures.jsonl"

# Short timeouts in the cluster so a lease (start grace + timeout + margin, deliveries.engine.claims.lease_seconds)
# expires within a test.
CLUSTER_ENV = {"WEBHOOKS_TIMEOUT_S": "3", "WEBHOOKS_RETRY_DELAYS": "2,2,2"}


def database_label() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def broker_label() -> str:
    return "redis" if not Conf.ORM else "orm"


def report(fault: str, **figures) -> dict:
    """Print and record what a fault test measured."""
    line = {
        "fault": fault,
        "database": database_label(),
        "broker": broker_label(),
        **figures,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print("RELIABILITY " + json.dumps(line))
    FIGURES.parent.mkdir(exist_ok=True)
    with FIGURES.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    return line


def query(fn, *, attempts: int = 60):
    """Run a read, reconnecting while the database is restarting (the test process is a client too)."""
    for _ in range(attempts):
        try:
            return fn()
        except (OperationalError, InterfaceError):
            connection.close()
            time.sleep(0.5)
    return fn()


def poll(predicate, *, timeout: float, message: str = ""):
    """``wait_until`` at a pace that does not load the shared database (5 reads a second)."""
    return wait_until(predicate, timeout=timeout, interval=0.2, message=message)


def status_counts() -> dict:
    from django.db.models import Count

    from deliveries.models import Delivery

    return query(lambda: dict(Delivery.objects.values_list("status").annotate(n=Count("id")).order_by()))


def emit_many(
    n: int, *, key: str = "contact.created", per_transaction: int = 100, source: str = "shop", pause_s: float = 0.0
) -> list[str]:
    """Emit ``n`` events in transactions of ``per_transaction``; each commit kicks the dispatcher.

    ``pause_s`` between transactions: kicks closer together than the kick window are coalesced
    into one job, so a test that needs many jobs (for several clusters to share) spaces them.
    """
    from events.services import emit

    ids = []
    for start in range(0, n, per_transaction):
        with transaction.atomic():
            for i in range(start, min(n, start + per_transaction)):
                ids.append(str(emit(key, source=source, payload={"contact": {"id": f"C-{i}"}, "n": i}).pk))
        if pause_s:
            time.sleep(pause_s)
    return ids


def unrecorded_requests(receiver) -> int:
    """Requests the receiver got beyond the attempt rows of their delivery: sends the log does not show.

    An attempt row is written before its request goes out, so a worker killed (or frozen) between
    the two leaves a row with no request: more rows than requests is allowed, fewer is not.
    """
    from django.db.models import Count

    from deliveries.models import Attempt

    rows = dict(
        Attempt.objects.values_list("delivery__event_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("delivery__event_id", "n")
    )
    rows = {str(k): v for k, v in rows.items()}
    return sum(max(0, n - rows.get(webhook_id, 0)) for webhook_id, n in receiver.ids().items())


@pytest.fixture
def bind_queue(monkeypatch):
    """Make this process queue its kicks where ``cluster`` listens (its name; optionally another Redis).

    From now on, not only from ``start()``: kicks of events emitted before the cluster starts wait
    in its queue, signed with its name (a kick signed with another name is refused by the cluster).
    """

    def bind(cluster: QCluster, *, redis_url: str | None = None):
        cluster.route_kicks_here()
        if redis_url:
            monkeypatch.setattr(Conf, "ORM", None)
            monkeypatch.setattr(Conf, "REDIS", redis_url)
            cluster.extra_env["REDIS_URL"] = redis_url
        return cluster

    return bind


@pytest.fixture
def clusters():
    """QClusters started by a test; every one is stopped (or killed) at the end, whatever happened."""
    started: list[QCluster] = []

    def make(**kwargs) -> QCluster:
        env = {**CLUSTER_ENV, **kwargs.pop("env", {})}
        cluster = QCluster(env=env, **kwargs)
        started.append(cluster)
        return cluster

    yield make
    for cluster in started:
        cluster.kill()


@pytest.fixture
def postback_to(transactional_db):
    """A postback channel subscribed to ``contact.created`` from every source."""
    from tests.support.factories import ensure_catalogue, postback_channel, subscribe

    ensure_catalogue()  # an earlier transactional test's flush took the catalogue with it

    def make(url: str, *, name: str = "receiver", timeout: int = 3, key: str = "contact.created"):
        channel = postback_channel(url, name=name, timeout=timeout)
        subscribe(channel, key)
        return channel

    return make
