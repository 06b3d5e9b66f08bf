"""The dispatcher: claims, re-checks after the claim, leases, fenced outcomes (SPEC section 5)."""

import dataclasses
import datetime as dt
import threading
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from channels.models import Channel
from deliveries.engine.claims import Claimer
from deliveries.engine.dispatcher import Dispatcher
from deliveries.engine.jobs import Outcome
from deliveries.engine.leases import requeue_expired_leases
from deliveries.engine.results import Finished, record
from deliveries.engine.send import send_claimed
from deliveries.models import Attempt, Delivery, DeliveryStatus
from events.services import emit
from tests.support.factories import enable, postback_channel, subscribe
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


def _run(dispatcher: Dispatcher, budget_s: float) -> None:
    """Run a dispatcher in a thread, as a second worker would, closing its connection after."""
    try:
        dispatcher.run(budget_s=budget_s)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_running_at_once_never_send_one_delivery_twice(catalogue, receiver):
    channel = postback_channel(receiver.url("/hook"), max_in_flight=8)
    subscribe(channel, "contact.created")
    receiver.reply("/hook", Reply(delay=0.02))  # long enough for both to be claiming at once
    for _ in range(150):
        emit("contact.created", source="shop", payload={})
    dispatchers = [Dispatcher(threads=8) for _ in range(2)]

    runners = [threading.Thread(target=_run, args=(d, 60)) for d in dispatchers]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=90)

    assert sum(d.stats.claimed for d in dispatchers) == 150
    assert sorted(receiver.ids().values()) == [1] * 150
    assert Attempt.objects.count() == 150
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 150


def test_a_claimed_row_is_not_claimed_again_and_its_attempt_is_logged_before_it_is_sent():
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})

    [claimed] = Claimer().claim(slots=10)

    assert Claimer().claim(slots=10) == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENDING and delivery.claim_token and delivery.lease_expires_at
    assert delivery.attempt_count == 1 and claimed.job.retry_count == 0
    attempt = Attempt.objects.get()
    assert attempt.pk == claimed.attempt_id and attempt.finished_at is None and attempt.number == 1


def test_pending_rows_that_are_not_due_yet_are_left_alone():
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Delivery.objects.update(next_attempt_at=timezone.now() + dt.timedelta(minutes=5))

    assert Claimer().claim(slots=10) == []


def test_a_channel_deactivated_after_emit_fails_the_delivery_without_sending(receiver):
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Channel.objects.update(active=False)

    Dispatcher().run(budget_s=5)

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "channel_inactive"
    assert delivery.attempt_count == 0
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
    """A worker died after claiming: its row is given back once its lease expires, on the database's clock."""
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Claimer().claim(slots=10)  # ... and the worker dies here
    assert requeue_expired_leases()["requeued"] == 0  # the lease still runs
    Delivery.objects.update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert requeue_expired_leases()["requeued"] == 1
    Dispatcher().run(budget_s=5)

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 2
    assert len(receiver.requests) == 1
    first, second = Attempt.objects.order_by("number")
    assert first.error == "worker_lost" and second.response_status == 200
    assert receiver.requests[0].json["retryCount"] == 1


def test_a_late_outcome_is_logged_but_does_not_overwrite_a_row_another_worker_took_over():
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    [claimed] = Claimer().claim(slots=1)
    # The lease expired and another worker claimed the row.
    Delivery.objects.update(claim_token=uuid.uuid4())

    lost = record([Finished(claimed, Outcome(started_at=timezone.now(), response_status=200))])

    assert lost == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENDING
    attempt = Attempt.objects.get(pk=claimed.attempt_id)
    assert attempt.response_status == 200 and attempt.finished_at is not None


def test_a_claim_that_can_no_longer_cover_a_whole_attempt_is_given_back_unsent(receiver):
    """The worker was frozen between the claim and the send: it sends nothing, logs nothing."""
    channel = postback_channel(receiver.url("/hook"), timeout=5)
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    [claimed] = Claimer().claim(slots=1)
    late = dataclasses.replace(claimed, claimed_at=time.monotonic() - claimed.lease_s + 5)

    outcome = send_claimed(late)
    record([Finished(late, outcome)])

    assert outcome.not_started and receiver.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempt_count == 0 and not delivery.claim_token
    assert not Attempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_channel_deleted_mid_send_does_not_touch_another_channels_outcomes(catalogue, receiver):
    # Given deliveries to two channels, claimed and answered
    doomed = postback_channel(receiver.url("/doomed"), name="doomed")
    kept = postback_channel(receiver.url("/kept"), name="kept")
    subscribe(doomed, "contact.created")
    subscribe(kept, "contact.created")
    for _ in range(4):
        emit("contact.created", source="shop", payload={})
    claimed = Claimer().claim(slots=16)
    finished = [Finished(c, send_claimed(c)) for c in claimed]

    # When one channel is deleted before the outcomes are written
    Channel.objects.filter(pk=doomed.pk).delete()
    record(finished)

    # Then the other channel's deliveries are recorded as succeeded, once each
    assert Delivery.objects.filter(channel=kept, status=DeliveryStatus.SUCCEEDED).count() == 4
    assert len(receiver.on("/kept")) == 4
    assert Attempt.objects.filter(delivery__channel=kept, response_status=200).count() == 4


def test_the_sweeper_task_requeues_expired_leases_and_says_it_ran(receiver):
    from deliveries.models import WorkerHeartbeat
    from deliveries.tasks import sweep

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})
    Claimer().claim(slots=1)
    Delivery.objects.update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))

    result = sweep()

    assert result == {"requeued": 1, "failed": 0}
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert WorkerHeartbeat.objects.filter(kind="sweeper").exists()


def test_the_dispatch_task_drains_due_work_in_a_process_without_an_engine(receiver):
    from deliveries.tasks import dispatch

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    emit("contact.created", source="shop", payload={})

    result = dispatch(time.time())

    assert result == {"woke": False, "claimed": 1, "sent": 1}
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_a_cookie_set_by_one_channels_endpoint_never_reaches_another_channel(catalogue, receiver):
    # Given two channels on the same host, one of whose endpoints sets a cookie
    setter = postback_channel(receiver.url("/sets"), name="sets")
    other = postback_channel(receiver.url("/other"), name="other")
    receiver.reply("/sets", Reply(headers={"Set-Cookie": "session=stolen; Path=/"}))
    subscribe(setter, "contact.created")
    subscribe(other, "contact.created")

    # When events go to both, twice
    for _ in range(2):
        emit("contact.created", source="shop", payload={})
        Dispatcher(threads=2).run(budget_s=10)

    # Then no request, to either channel, carries the cookie
    assert len(receiver.requests) == 4
    assert all("cookie" not in r.headers for r in receiver.requests)


@pytest.mark.django_db(transaction=True)
def test_outcomes_whose_write_failed_are_written_on_a_later_pass_not_dropped(catalogue, receiver, monkeypatch):
    # Given three deliveries, and a database that refuses the first two writes of their outcomes
    from django.db import OperationalError

    import deliveries.engine.dispatcher as dispatcher_module

    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    for _ in range(3):
        emit("contact.created", source="shop", payload={})
    failures = iter([True, True])

    def flaky_record(batch):
        if next(failures, False):
            raise OperationalError("database is locked")
        return record(batch)

    monkeypatch.setattr(dispatcher_module, "record", flaky_record)
    monkeypatch.setattr(dispatcher_module, "ERROR_BACKOFF_S", 0.05)

    # When the engine sends them
    Dispatcher().run(budget_s=10)

    # Then each was sent once and its answer recorded: no lost outcome, nothing to send again
    assert len(receiver.requests) == 3
    assert set(Delivery.objects.values_list("status", "attempt_count")) == {(DeliveryStatus.SUCCEEDED, 1)}
    assert set(Attempt.objects.values_list("response_status", flat=True)) == {200}
