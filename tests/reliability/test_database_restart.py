"""SPEC section 5: PostgreSQL restarted during a run; the workers recover by themselves, nothing is lost.

This restarts the machine's PostgreSQL server (``pg_ctlcluster ... restart``), which every
other user of that server notices, so it runs only when asked (``RUN_PG_RESTART=1``) or in
CI (``CI=true``), and only on PostgreSQL.
"""

import os
import shutil
import subprocess
import time

import pytest
from django.db import connection

from deliveries.models import DeliveryStatus
from tests.reliability.conftest import emit_many, poll, query, report, status_counts
from tests.support.receiver import Receiver, Reply

PG_VERSION = os.environ.get("PG_CLUSTER_VERSION", "15")
PG_CLUSTER = os.environ.get("PG_CLUSTER_NAME", "main")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.reliability,
    pytest.mark.exclusive,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not (os.environ.get("RUN_PG_RESTART") == "1" or os.environ.get("CI") == "true"),
        reason="restarts the shared PostgreSQL server: set RUN_PG_RESTART=1 (CI runs it)",
    ),
]

EVENTS = 300


@pytest.fixture
def postgresql_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("restarts PostgreSQL: runs on the PostgreSQL leg only")
    if not shutil.which("pg_ctlcluster"):
        pytest.skip("pg_ctlcluster is not installed here")


def _restart_postgresql() -> float:
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, PG_CLUSTER, "restart"],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return time.monotonic() - started


def test_postgresql_restarted_mid_run_workers_recover_by_themselves_and_nothing_is_lost(
    postgresql_only, postback_to, clusters, bind_queue
):
    with Receiver(default=Reply(delay=0.05)) as receiver:
        postback_to(receiver.url("/hook"))
        cluster = bind_queue(clusters(workers=2))
        event_ids = emit_many(EVENTS, per_transaction=50)
        cluster.start()
        # The sweeper schedule on duty now, not at the scheduler's first pass (~30 s after start)
        assert "postbacks-sweeper" in cluster.run_schedules_now()
        poll(lambda: len(receiver.requests) >= EVENTS // 5, timeout=120, message="a fifth delivered before the restart")

        # When the database server restarts under the running cluster
        restart_s = _restart_postgresql()
        restarted_at = time.monotonic()
        connection.close()  # this process's connection died too

        # Then the cluster finishes the run by itself, and takes new work after it
        poll(
            lambda: status_counts().get(DeliveryStatus.SUCCEEDED, 0) == EVENTS,
            timeout=200,
            message=f"all {EVENTS} delivered after the restart ({status_counts()})",
        )
        recovered_s = time.monotonic() - restarted_at
        more = emit_many(20, per_transaction=10)
        poll(
            lambda: status_counts().get(DeliveryStatus.SUCCEEDED, 0) == EVENTS + 20,
            timeout=150,
            message=f"new events after the restart delivered ({status_counts()})",
        )

        received = receiver.ids()
        lost = (set(event_ids) | set(more)) - set(received)
        duplicates = sum(n - 1 for n in received.values())
        overlaps = receiver.overlapping_ids()
        figures = report(
            "PostgreSQL restarted (pg_ctlcluster restart) mid-run",
            events=EVENTS + 20,
            lost=len(lost),
            duplicates=duplicates,
            overlapping=len(overlaps),
            restart_took_s=round(restart_s, 1),
            recover_s=round(recovered_s, 1),
            cluster_alive=cluster.process.poll() is None,
        )
        assert not lost, figures
        assert not overlaps, figures
        assert cluster.process.poll() is None, "the cluster died with the database:\n" + cluster.log()[-3000:]
        assert query(lambda: status_counts()) == {DeliveryStatus.SUCCEEDED: EVENTS + 20}
