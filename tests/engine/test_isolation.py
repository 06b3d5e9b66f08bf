"""Suspects (deliveries whose sending process was lost twice) are sent in a process of their own.

A send that kills its process then kills only itself: the other sends of the engine go on,
and the lost one counts towards the poison cap like a lease that ran out.
"""

import os
import signal

import psutil
import pytest

from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind
from events.services import emit
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(transaction=True)


def _sender_pid(port: int) -> int | None:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.pid and conn.pid != os.getpid():
            return conn.pid
    return None


class SenderLog:
    """Answers 200 and notes which process sent each request; on ``kill``, SIGKILLs that process (never this one)."""

    def __init__(self, *, kill: bool = False):
        self.kill = kill
        self.pids: list[int | None] = []

    def __call__(self, request):
        pid = _sender_pid(request.client_port)
        self.pids.append(pid)
        if self.kill and pid:
            os.kill(pid, signal.SIGKILL)
        return Reply()


def _suspect(channel, *, lost_before: int) -> Delivery:
    emit("contact.created", source="shop", payload={"contact": {"id": 1}})
    delivery = Delivery.objects.get(channel=channel)
    Delivery.objects.filter(pk=delivery.pk).update(lease_expiries=lost_before)
    return delivery


def test_a_delivery_lost_once_is_sent_by_the_engine_itself(catalogue):
    senders = SenderLog()
    with Receiver(default=senders) as receiver:
        # Given a delivery whose sending process was lost once (a crash loses every send in flight)
        channel = postback_channel(receiver.url("/hook"))
        subscribe(channel, "contact.created")
        delivery = _suspect(channel, lost_before=1)

        # When the engine sends it
        Dispatcher(threads=4).run(budget_s=30)

    # Then it went out from the engine's own process (no process start), and succeeded
    assert senders.pids == [None], senders.pids
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_a_suspect_is_sent_from_another_process_and_its_answer_recorded(catalogue):
    senders = SenderLog()
    with Receiver(default=senders) as receiver:
        # Given a delivery whose sending process was lost twice
        channel = postback_channel(receiver.url("/hook"))
        subscribe(channel, "contact.created")
        delivery = _suspect(channel, lost_before=2)

        # When the engine sends it
        Dispatcher(threads=4).run(budget_s=30)

    # Then it went out once, from a process that is not the engine's, and its 200 is recorded
    assert len(senders.pids) == 1 and senders.pids[0] not in (None, os.getpid()), senders.pids
    delivery.refresh_from_db()
    assert (delivery.status, delivery.lease_expiries) == (DeliveryStatus.SUCCEEDED, 2)
    attempt = Attempt.objects.get(delivery=delivery)
    assert (attempt.response_status, attempt.error) == (200, "")
    assert attempt.finished_at is not None


def test_a_suspect_that_kills_its_process_ends_failed_at_the_cap_and_spares_the_engines_other_sends(catalogue):
    killer, healthy_senders = SenderLog(kill=True), SenderLog()
    with Receiver(default=killer) as poison, Receiver(default=healthy_senders) as healthy:
        # Given a suspect whose every send kills the process sending it, and 20 healthy deliveries
        channel = postback_channel(poison.url("/hook"), name="poison")
        subscribe(channel, "contact.created")
        delivery = _suspect(channel, lost_before=2)
        other = postback_channel(healthy.url("/hook"), name="healthy")
        subscribe(other, "product.conflict")
        for i in range(20):
            emit("product.conflict", source="shop", payload={"i": i})

        # When one engine sends everything
        Dispatcher(threads=8).run(budget_s=60)

    # Then the suspect killed one process of its own (lost 2 + 1 = the cap of 3) and ended failed
    delivery.refresh_from_db()
    assert len(killer.pids) == 1 and os.getpid() not in killer.pids, killer.pids
    assert (delivery.status, delivery.last_error, delivery.lease_expiries) == ("failed", ErrorKind.WORKER_LOST, 3)
    lost = Attempt.objects.filter(delivery=delivery).order_by("number")
    assert [a.error for a in lost] == [ErrorKind.WORKER_LOST]
    assert all(a.finished_at is not None for a in lost)
    # and the engine's own sends went on in this process, each once, each recorded
    assert len(healthy_senders.pids) == 20
    assert Delivery.objects.filter(channel=other, status=DeliveryStatus.SUCCEEDED).count() == 20
    assert not Delivery.objects.filter(channel=other, lease_expiries__gt=0).exists()


def test_an_engine_with_no_isolated_send_free_leaves_suspects_waiting(catalogue, settings):
    senders = SenderLog()
    with Receiver(default=senders) as receiver:
        # Given isolated sends switched off and one suspect beside a normal delivery
        settings.WEBHOOKS_ISOLATED_SENDS = 0
        channel = postback_channel(receiver.url("/hook"))
        subscribe(channel, "contact.created")
        suspect = _suspect(channel, lost_before=2)
        emit("contact.created", source="shop", payload={"contact": {"id": 2}})

        # When the engine runs
        Dispatcher(threads=4).run(budget_s=5)

    # Then only the normal one went out (from this process); the suspect waits, never sent beside others
    assert senders.pids == [None], senders.pids  # None: the sender was this process
    suspect.refresh_from_db()
    assert suspect.status == DeliveryStatus.PENDING
    assert not Attempt.objects.filter(delivery=suspect).exists()
