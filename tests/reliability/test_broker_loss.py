"""SPEC section 5: the Redis broker restarted with its data gone while jobs are queued.

django-q2's Redis broker has no receipts, so the queued jobs are simply gone; the
sweeper schedule must find every due delivery in the database by itself. This runs on
either database, against a private Redis (never the shared one on 6379).
"""

import time

import pytest

from deliveries.models import Delivery, DeliveryStatus
from tests.reliability.conftest import emit_many, poll, report, status_counts
from tests.reliability.private_redis import PrivateRedis
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(300)]

EVENTS = 200


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path).start()
    yield redis
    redis.stop()


def test_redis_restarted_empty_with_jobs_queued_then_the_sweeper_delivers_everything(
    postback_to, clusters, bind_queue, private_redis
):
    with Receiver() as receiver:
        postback_to(receiver.url("/hook"))
        cluster = bind_queue(clusters(workers=2), redis_url=private_redis.url)

        # Given 200 committed events whose dispatch jobs wait in Redis (no cluster running yet)
        event_ids = emit_many(EVENTS, per_transaction=20)
        queue_key = f"django_q:{cluster.name}:q"
        queued = private_redis.client().llen(queue_key)
        assert queued >= 1, "the dispatch jobs were not queued in the private Redis"

        # When Redis dies and comes back with nothing (no persistence), and the cluster starts
        private_redis.restart_empty()
        assert private_redis.client().llen(queue_key) == 0
        cluster.start()
        started = time.monotonic()
        # The sweeper schedule on duty now, not at the scheduler's first pass (~30 s after start)
        assert "postbacks-sweeper" in cluster.run_schedules_now()

        # Then the sweeper, not the lost jobs, delivers every event
        poll(
            lambda: status_counts().get(DeliveryStatus.SUCCEEDED, 0) == EVENTS,
            timeout=150,
            message=f"all delivered from the database alone ({status_counts()})",
        )
        recovered_s = time.monotonic() - started
        received = receiver.ids()
        lost = set(event_ids) - set(received)

        # And the cluster keeps working through a second Redis restart while it runs
        private_redis.restart_empty()
        restarted = time.monotonic()
        more_ids = emit_many(50, per_transaction=10)
        poll(
            lambda: status_counts().get(DeliveryStatus.SUCCEEDED, 0) == EVENTS + 50,
            timeout=150,
            message=f"events emitted after a Redis restart under a running cluster ({status_counts()})",
        )
        second_recovery_s = time.monotonic() - restarted
        received = receiver.ids()
        lost_after = set(more_ids) - set(received)

        duplicates = sum(n - 1 for n in received.values())
        figures = report(
            "Redis restarted empty with jobs queued (private Redis)",
            events=EVENTS,
            jobs_lost_in_redis=queued,
            lost=len(lost),
            duplicates=duplicates,
            recover_s=round(recovered_s, 1),
            running_cluster_restart={"events": 50, "lost": len(lost_after), "recover_s": round(second_recovery_s, 1)},
        )
        assert not lost and not lost_after, figures
        assert duplicates == 0, figures
        assert not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
