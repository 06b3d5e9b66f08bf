"""Whether a worker's memory stays flat: its RSS after N deliveries over its RSS after N/10."""

from __future__ import annotations

import os
import time
import uuid

from django.db import transaction
from django.utils import timezone

from bench.harness import ScenarioError, receiver_client, start_qcluster, stop_process, tree_rss
from bench.scenarios import scenario
from bench.scenarios.helpers import order_payload, postback_channel, qcluster_log, subscribe, warm_up
from deliveries.engine.kick import queue_dispatch_on_commit
from deliveries.models import Delivery, DeliveryStatus
from events.models import Event


def create_pending(*, first: int, count: int, subscription) -> None:
    """The rows ``emit`` writes for ``count`` events of one subscription, inserted in bulk, then the
    same kick ``emit`` queues on commit: feeding 100,000 events this way leaves the CPU to the worker."""
    now = timezone.now()
    with transaction.atomic():
        events = Event.objects.bulk_create(
            Event(
                id=uuid.uuid4(),
                type_id=subscription.event_type_id,
                source="shop",
                occurred_at=now,
                payload=order_payload(i),
            )
            for i in range(first, first + count)
        )
        Delivery.objects.bulk_create(
            Delivery(
                event=event,
                subscription=subscription,
                channel_id=subscription.channel_id,
                event_type_id=subscription.event_type_id,
                source="shop",
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for event in events
        )
        queue_dispatch_on_commit()


@scenario
def worker_rss(cfg) -> dict:
    """Worker RSS after N deliveries over RSS after N/10, with events fed while the cluster drains them."""
    receiver = receiver_client(cfg.get("receiver_kind", "bench"), cfg["receiver"])
    subscription = subscribe(key="order.completed", channel=postback_channel(name="rss", url=f"{receiver.url}/rss"))
    small, large = cfg["small"], cfg["large"]
    cluster = start_qcluster(dict(os.environ), qcluster_log(cfg))
    samples = []
    try:
        warm_up(receiver)
        created = 0
        rss_small = None
        next_sample = 0
        deadline = time.monotonic() + cfg["timeout"]
        while True:
            received = receiver.count()
            if rss_small is None and received >= small:
                rss_small = tree_rss(cluster.pid)
            if received >= next_sample:
                samples.append((received, sum(tree_rss(cluster.pid).values())))
                next_sample += large // 10
            if received >= large:
                break
            if time.monotonic() > deadline:
                raise ScenarioError(f"only {received} of {large} delivered in {cfg['timeout']} s")
            if created < large and created - received < cfg["backlog"]:
                batch = min(1000, large - created)
                create_pending(first=40_000_000 + created, count=batch, subscription=subscription)
                created += batch
            else:
                time.sleep(0.1)
        rss_large = tree_rss(cluster.pid)
    finally:
        stop_process(cluster)
    growth = sum(rss_large.values()) / sum(rss_small.values())
    mib = 2**20
    return {
        "worker_rss_growth": growth,
        "details": {
            "deliveries_small": small,
            "deliveries_large": large,
            "rss_mib_small": round(sum(rss_small.values()) / mib, 1),
            "rss_mib_large": round(sum(rss_large.values()) / mib, 1),
            "largest_process_mib_small": round(max(rss_small.values()) / mib, 1),
            "largest_process_mib_large": round(max(rss_large.values()) / mib, 1),
            "processes_small": len(rss_small),
            "processes_large": len(rss_large),
            "samples_received_vs_mib": [(r, round(b / mib, 1)) for r, b in samples],
        },
    }
