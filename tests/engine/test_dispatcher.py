"""The dispatcher: claims, per-channel cap, re-checks after the claim, leases (SPEC section 5)."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from channels.models import Channel
from deliveries.engine.claims import requeue_expired_leases
from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Attempt, Delivery, DeliveryStatus
from events.services import emit
from tests.support.factories import enable, postback_channel, subscribe
from tests.support.receiver import Reply, wait_until

pytestmark = pytest.mark.django_db


def _run(dispatcher: Dispatcher, budget_s: float) -> None:
    """Run a dispatcher in a thread, as a second worker would, closing its connection after."""
    try:
        dispatcher.run(budget_s=budget_s)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_slow_channel_holds_at_most_its_cap_of_threads_and_healthy_ones_still_go_out(catalogue, receiver):
    """Given 20 deliveries to an endpoint that hangs and 30 to a healthy one, with 4 threads and
    a cap of 2 per channel: the healthy ones all arrive while the slow ones are still hanging."""
    release = threading.Event()
    slow = postback_channel(receiver.url("/slow"), name="slow", timeout=10)
    healthy = postback_channel(receiver.url("/ok"), name="healthy")
    enable("contact.created")
    subscribe(slow, "contact.created")
    receiver.reply("/slow", Reply(hold=release, hold_max=10))
    # 20 events for the slow channel first (older, so due first), then 30 for both.
    for _ in range(20):
        emit("contact.created", source="shop", payload={})
    subscribe(healthy, "refund.applied")
    for _ in range(30):
        emit("refund.applied", source="shop", payload={})

    dispatcher = Dispatcher(threads=4, per_channel=2)
    runner = threading.Thread(target=_run, args=(dispatcher, 30))
    try:
        runner.start()
        wait_until(lambda: len(receiver.on("/ok")) == 30, timeout=20, message="healthy deliveries")
        assert receiver.in_flight <= 2 and len(receiver.on("/slow")) == 2
        assert not any(r.answered for r in receiver.on("/slow"))  # still hanging
    finally:
        release.set()
        runner.join(timeout=60)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_running_at_once_never_send_one_delivery_twice(catalogue, receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    receiver.reply("/hook", Reply(delay=0.02))  # long enough for both to be claiming at once
    for _ in range(150):
        emit("contact.created", source="shop", payload={})
    dispatchers = [Dispatcher(threads=8, per_channel=4) for _ in range(2)]

    runners = [threading.Thread(target=_run, args=(d, 60)) for d in dispatchers]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=90)

    assert all(d.stats.claimed > 0 for d in dispatchers), [d.stats for d in dispatchers]
    assert sum(d.stats.claimed for d in dispatchers) == 150
    assert sorted(receiver.ids().values()) == [1] * 150
    assert Attempt.objects.count() == 150
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 150


def test_a_claimed_row_is_not_claimed_again():
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})

    assert len(Dispatcher().claim(limit=10)) == 1
    assert Dispatcher().claim(limit=10) == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENDING and delivery.claim_token and delivery.lease_expires_at


def test_pending_rows_that_are_not_due_yet_are_left_alone():
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Delivery.objects.update(next_attempt_at=timezone.now() + dt.timedelta(minutes=5))

    assert Dispatcher().claim(limit=10) == []


def test_a_channel_deactivated_after_emit_fails_the_delivery_without_sending(receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Channel.objects.update(active=False)

    Dispatcher().run(budget_s=5)

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "channel_inactive"
    assert receiver.requests == [] and not Attempt.objects.exists()


def test_an_event_type_disabled_after_emit_fails_the_delivery_without_sending(receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    enable("contact.created", enabled=False)

    Dispatcher().run(budget_s=5)

    assert Delivery.objects.get().last_error == "type_disabled"
    assert receiver.requests == []


def test_an_expired_lease_is_taken_back_and_sent(receiver):
    """A worker died after claiming: the sweeper gives the row back once its lease expires."""
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Dispatcher().claim(limit=10)  # ... and the worker dies here
    assert requeue_expired_leases() == 0  # the lease still runs
    Delivery.objects.update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert requeue_expired_leases() == 1
    Dispatcher().run(budget_s=5)

    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 1


def test_a_late_result_does_not_overwrite_a_row_another_worker_took_over(receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    slow_worker = Dispatcher()
    [flight] = slow_worker.claim(limit=1)
    # The lease expired and another worker claimed the row.
    Delivery.objects.update(claim_token=uuid.uuid4())

    from deliveries.engine.jobs import Outcome

    slow_worker._done.append((flight, Outcome(started_at=timezone.now(), response_status=200)))
    slow_worker._flush()

    assert Delivery.objects.get().status == DeliveryStatus.SENDING
    assert slow_worker.stats.lost_leases == 1


def test_the_sweeper_task_requeues_expired_leases_and_sends_due_work(receiver):
    from deliveries.tasks import sweep

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    emit("contact.created", source="shop", payload={})
    Dispatcher().claim(limit=1)
    Delivery.objects.filter(status=DeliveryStatus.SENDING).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    result = sweep(budget_s=0.5)

    assert result["requeued"] == 1 and result["sent"] == 2
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2


def test_the_dispatch_task_keeps_polling_for_the_kick_window(receiver):
    """A kick stands for the kicks coalesced after it (one per 50 ms window): its run looks again
    until the window ends, so work that comes due meanwhile goes out with it, with no kick of its own."""
    import time

    from deliveries.tasks import dispatch

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    kicked_at = time.time()
    # Due 40 ms after the kick: after the run's first look (nothing due), before its window ends.
    due_at = dt.datetime.fromtimestamp(kicked_at + 0.04, tz=dt.UTC)
    Delivery.objects.update(next_attempt_at=due_at)

    result = dispatch(kicked_at)

    assert result == {"claimed": 1, "sent": 1, "stopped": False}
    assert len(receiver.requests) == 1 and receiver.requests[0].arrived


def test_sigint_ends_the_sweeper_early_and_saves_what_was_sent(receiver):
    """Ctrl-C reaches every worker: the ~50 s sweeper job stops within a second or so, cleanly."""
    import os
    import signal

    from deliveries.tasks import sweep

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    previous_handler = signal.getsignal(signal.SIGINT)

    def ctrl_c_once_the_postback_is_out():
        wait_until(lambda: receiver.requests, timeout=30, message="the postback to arrive")
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=ctrl_c_once_the_postback_is_out, daemon=True)
    interrupter.start()

    result = sweep(budget_s=60)
    interrupter.join(timeout=5)

    assert result["stopped"] is True  # ended by the signal, not by its budget
    assert result["sent"] == 1 and Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
    assert signal.getsignal(signal.SIGINT) is previous_handler  # the previous handler is back
