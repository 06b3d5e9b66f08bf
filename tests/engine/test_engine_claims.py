"""The engine: claims only what it can start, within each channel's cap across engines, fairly; every request logged first."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliveries.engine.claims import Claimer, due_channels
from deliveries.engine.dispatcher import Dispatcher
from deliveries.engine.leases import requeue_expired_leases
from deliveries.models import Attempt, BreakerState, ChannelBreaker, Delivery, DeliveryStatus
from events.services import emit
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Reply, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _drain(engine: Dispatcher, timeout: float = 30) -> None:
    try:
        engine.run(budget_s=timeout)
    finally:
        connection.close()


def _drain_together(engines: list[Dispatcher], receiver, *, interval: float) -> list[int]:
    """Run the engines at once until each is idle; the receiver's requests in flight, sampled every ``interval``."""
    peak = []
    watching = threading.Event()

    def watch():
        while not watching.is_set():
            peak.append(receiver.in_flight)
            time.sleep(interval)

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=_drain, args=(engine,)) for engine in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    watching.set()
    watcher.join()
    return peak


def test_events_are_sent_once_each_and_every_attempt_row_is_complete(catalogue, receiver):
    # Given 30 events for one channel
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    for i in range(30):
        emit("contact.created", source="shop", payload={"i": i})

    # When an engine drains them
    Dispatcher(threads=8).run(budget_s=30)

    # Then each went out once, succeeded, and its attempt row is finished with the answer
    assert sorted(receiver.ids().values()) == [1] * 30
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 30
    assert Attempt.objects.filter(finished_at__isnull=False, response_status=200).count() == 30
    assert not Delivery.objects.exclude(claim_token=None).exists()


def test_a_channel_never_has_more_than_its_cap_in_flight_across_two_engines(catalogue, receiver):
    # Given a channel capped at 3 whose endpoint answers slowly, 24 events, and two engines
    channel = postback_channel(receiver.url("/slow"), max_in_flight=3)
    subscribe(channel, "contact.created")
    receiver.reply("/slow", Reply(delay=0.2))
    for i in range(24):
        emit("contact.created", source="shop", payload={"i": i})

    # When both drain at once
    peak = _drain_together([Dispatcher(threads=16) for _ in range(2)], receiver, interval=0.005)

    # Then the endpoint never saw more than 3 at once, and got each event once
    assert max(peak) == 3
    assert sorted(receiver.ids().values()) == [1] * 24


def test_a_backlog_for_a_hanging_channel_does_not_delay_a_healthy_one(catalogue, receiver):
    # Given 40 deliveries to an endpoint that hangs (older, so due first) and 10 to a healthy one
    release = threading.Event()
    slow = postback_channel(receiver.url("/hang"), name="hang", timeout=10, max_in_flight=2)
    healthy = postback_channel(receiver.url("/ok"), name="ok")
    subscribe(slow, "contact.created")
    receiver.reply("/hang", Reply(hold=release, hold_max=10))
    for _ in range(40):
        emit("contact.created", source="shop", payload={})
    subscribe(healthy, "refund.applied")
    for _ in range(10):
        emit("refund.applied", source="shop", payload={})

    # When an engine with 8 threads runs (a channel may hold a quarter of them: 2, its cap)
    engine = Dispatcher(threads=8)
    runner = threading.Thread(target=_drain, args=(engine, 40))
    runner.start()
    try:
        # Then the healthy ones all arrive while the hanging channel holds only its cap
        wait_until(lambda: len(receiver.on("/ok")) == 10, timeout=10, message="healthy deliveries")
        assert len(receiver.on("/hang")) == 2
        # and the attempts of the hanging sends are already in the log, unfinished
        assert Attempt.objects.filter(delivery__channel=slow, finished_at__isnull=True).count() == 2
    finally:
        release.set()
        engine.stop()
        runner.join(60)


def test_two_hanging_channels_with_a_cap_of_half_the_pool_leave_threads_for_a_healthy_one(catalogue, receiver):
    # Given two channels whose endpoints hang, each with a cap of 2 (half of a 4-thread pool),
    # 20 deliveries waiting for each (older, so due first), and 10 for a healthy channel
    release = threading.Event()
    hanging = [
        postback_channel(receiver.url(f"/hang{i}"), name=f"hang {i}", timeout=10, max_in_flight=2) for i in range(2)
    ]
    for i, channel in enumerate(hanging):
        subscribe(channel, "contact.created")
        receiver.reply(f"/hang{i}", Reply(hold=release, hold_max=10))
    for _ in range(20):
        emit("contact.created", source="shop", payload={})
    healthy = postback_channel(receiver.url("/ok"), name="ok")
    subscribe(healthy, "refund.applied")
    for _ in range(10):
        emit("refund.applied", source="shop", payload={})

    # When an engine with 4 threads runs
    engine = Dispatcher(threads=4)
    runner = threading.Thread(target=_drain, args=(engine, 40))
    runner.start()
    try:
        # Then the healthy deliveries all arrive while the hanging sends hold their threads
        wait_until(lambda: len(receiver.on("/ok")) == 10, timeout=5, message="healthy deliveries")
        # and each hanging channel holds one thread (a quarter of the pool), not its cap of 2
        assert [len(receiver.on(f"/hang{i}")) for i in range(2)] == [1, 1]
    finally:
        release.set()
        engine.stop()
        runner.join(60)


def test_an_expired_lease_closes_the_lost_attempt_and_the_third_fails_the_delivery(catalogue, receiver):
    # Given a delivery claimed by a worker that died: sending, lease in the past, its attempt unfinished
    from django.utils import timezone

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    delivery = Delivery.objects.get()
    for expiry in range(1, 4):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENDING,
            lease_expires_at=timezone.now() - timezone.timedelta(seconds=1),
            attempt_count=expiry,
        )
        Attempt.objects.create(delivery=delivery, number=expiry, started_at=timezone.now())

        # When the leases are swept
        requeue_expired_leases()

        # Then the lost attempt is closed as worker_lost; twice requeued, the third time failed
        delivery.refresh_from_db()
        assert Attempt.objects.get(delivery=delivery, number=expiry).error == "worker_lost"
        assert delivery.lease_expiries == expiry
        assert delivery.status == (DeliveryStatus.FAILED if expiry == 3 else DeliveryStatus.PENDING)
    assert delivery.last_error == "worker_lost" and "3 times" in delivery.failure_reason


def test_a_channel_resting_behind_its_breaker_is_not_a_claim_candidate(catalogue, receiver):
    # Given two channels with due deliveries, one of them cooling off behind an open breaker
    cooling = postback_channel(receiver.url("/dead"))
    healthy = postback_channel(receiver.url("/hook"))
    for channel in (cooling, healthy):
        subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={"i": 1})
    now = timezone.now()
    ChannelBreaker.objects.create(
        channel=cooling, state=BreakerState.OPEN, cooloff_s=30, open_until=now + dt.timedelta(seconds=30)
    )

    # When the claim looks for channels with due work
    resting = due_channels(after=0, now=now, limit=16)
    # ... and again once the cool-off has ended, and while its probe is out
    after_cooloff = due_channels(after=0, now=now + dt.timedelta(seconds=31), limit=16)
    ChannelBreaker.objects.filter(channel=cooling).update(state=BreakerState.HALF_OPEN, probe_started_at=now)
    probing = due_channels(after=0, now=now + dt.timedelta(seconds=1), limit=16)

    # Then only the healthy channel is a candidate while the other rests; after the cool-off both are
    assert resting == [healthy.pk]
    assert after_cooloff == sorted([cooling.pk, healthy.pk])
    assert probing == [healthy.pk]
    # ... and, the breaker closed again, the walk starts after the cursor and wraps round
    ChannelBreaker.objects.filter(channel=cooling).delete()
    assert due_channels(after=healthy.pk, now=now + dt.timedelta(seconds=31), limit=16) == [cooling.pk, healthy.pk]


def test_a_claim_runs_as_many_statements_for_ten_rows_as_for_one(catalogue, receiver, django_user_model):
    # Given a channel (cap 20) with 12 events, the first and the sixth triggered by a user
    channel = postback_channel(receiver.url("/hook"), max_in_flight=20)
    subscribe(channel, "contact.created")
    user = django_user_model.objects.create_user("staff")
    for i in range(12):
        by_user = {"source": "admin", "triggered_by": user} if i in (0, 5) else {"source": "shop"}
        emit("contact.created", payload={"i": i}, **by_user)

    # When one row is claimed, then ten
    claimer = Claimer()
    with CaptureQueriesContext(connection) as one:
        first = claimer.claim(slots=1)
    with CaptureQueriesContext(connection) as ten:
        rest = claimer.claim(slots=10)

    # Then both claims ran the same statements: nothing the jobs need is read row by row
    # (a column the claim leaves unread, if used, would be loaded once per row)
    assert (len(first), len(rest)) == (1, 10)
    assert len(ten.captured_queries) == len(one.captured_queries), [q["sql"][:80] for q in ten.captured_queries]
    jobs = [c.job for c in first + rest]
    assert {job.trigger_user for job in jobs} == {"staff", None}
    assert sorted(job.payload["i"] for job in jobs) == list(range(11))
    assert {job.source for job in jobs} == {"admin", "shop"}


def test_rows_held_for_a_fast_channel_never_push_it_past_its_cap_across_two_engines(catalogue, receiver):
    # Given a channel capped at 3 whose endpoint answers fast (so engines hold rows back for it), 150 events
    channel = postback_channel(receiver.url("/fast"), max_in_flight=3)
    subscribe(channel, "contact.created")
    receiver.reply("/fast", Reply(delay=0.01))
    for i in range(150):
        emit("contact.created", source="shop", payload={"i": i})

    # When two engines drain them at once
    engines = [Dispatcher(threads=16) for _ in range(2)]
    peak = _drain_together(engines, receiver, interval=0.002)

    # Then sends followed each other from held rows, the endpoint never saw more than 3 at once,
    # and every event went out once, with one finished attempt row for each request
    assert sum(engine.stats.held_starts for engine in engines) > 0
    assert max(peak) <= 3
    assert sorted(receiver.ids().values()) == [1] * 150
    assert Attempt.objects.filter(finished_at__isnull=False, response_status=200).count() == 150
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 150


def test_a_busy_fast_channel_is_topped_up_by_one_claim_every_half_depth_of_sends(catalogue, receiver, settings):
    # Given a fast channel capped at 2, rows held 20 deep, and 200 events
    settings.WEBHOOKS_HOLD_DEPTH = 20
    channel = postback_channel(receiver.url("/fast"), max_in_flight=2)
    subscribe(channel, "contact.created")
    for i in range(200):
        emit("contact.created", source="shop", payload={"i": i})

    # When an engine with threads to spare drains them (held rows count against its threads)
    engine = Dispatcher(threads=64)
    _drain(engine)

    # Then each went out once, nearly all from held rows, and a claim took about ten rows or more
    # (a claim per send or two before: each ended send was followed by a claim of the one row freed)
    assert sorted(receiver.ids().values()) == [1] * 200
    assert engine.stats.held_starts > 150
    assert engine.stats.claims <= 200 / 10 + 5, engine.stats


def test_a_fast_channel_that_stops_answering_gives_its_held_rows_back_without_spending_attempts(catalogue, receiver):
    # Given a fast channel (timeout 1 s) whose endpoint stops answering after 20 requests, and 80 events
    channel = postback_channel(receiver.url("/flaky"), max_in_flight=2, timeout=1)
    subscribe(channel, "contact.created")
    answered = []

    def reply(_request):
        answered.append(1)
        return Reply(delay=0.005) if len(answered) <= 20 else Reply(silent=True)

    receiver.reply("/flaky", reply)
    for i in range(80):
        emit("contact.created", source="shop", payload={"i": i})

    # When an engine works on them for a few seconds
    engine = Dispatcher(threads=8)
    engine.run(budget_s=6)

    # Then held rows were used while it answered, and once it stopped, those held back went back
    # unsent: every request the endpoint got has its attempt row, and no delivery counts an
    # attempt it did not make
    assert engine.stats.held_starts > 0
    assert engine.stats.held_given_back > 0
    requests = len(receiver.on("/flaky"))
    assert Attempt.objects.count() == requests
    for delivery in Delivery.objects.all():
        assert delivery.attempt_count == delivery.attempts.count(), delivery.pk
    assert not Delivery.objects.filter(status=DeliveryStatus.SENDING).exists()
