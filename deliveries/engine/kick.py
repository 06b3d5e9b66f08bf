"""The kick: ask a worker to send what is due now, once the transaction that made it due commits."""

from __future__ import annotations

import logging
import os
import threading
import time

from django.db import transaction

logger = logging.getLogger(__name__)

# Kicks from one process closer together than this are coalesced into one: a woken engine
# claims everything due, and a busy one keeps claiming as its send threads free up.
KICK_WINDOW_S = 0.05

_kick_lock = threading.Lock()
_last_kick = 0.0
_brokers: dict = {}  # (process id, queue name): the broker this process kicks through


def kick_broker():
    """The broker kicks go through, made once per process.

    ``async_task`` alone builds a broker for every kick: with Redis a new connection pool (a new
    TCP connection) each time; with the ORM broker (SQLite without Redis) it also closes the
    caller's database connections first (``close_old_connections``, meant for the cluster's own
    long-lived threads), so the request or loop that emitted opened the database again afterwards.
    """
    from django_q.conf import Conf

    key = (os.getpid(), Conf.CLUSTER_NAME)  # the queue is named after the cluster (tests route it elsewhere)
    broker = _brokers.get(key)
    if broker is None:
        from django_q.brokers import get_broker
        from django_q.brokers.orm import ORM

        broker = get_broker()
        if type(broker) is ORM:
            broker = _orm_without_closing()(list_key=broker.list_key)
        _brokers.clear()  # a forked child must not use its parent's connections
        _brokers[key] = broker
    return broker


def _orm_without_closing():
    from django_q.brokers.orm import ORM
    from django_q.conf import Conf
    from django_q.models import OrmQ

    class KickORM(ORM):
        """django-q2's ORM broker, minus closing the caller's connections before each enqueue."""

        @staticmethod
        def get_connection(list_key: str = None):
            return OrmQ.objects.using(Conf.ORM)

    return KickORM


def queue_dispatch() -> None:
    """Ask a worker to send what is due now. Call it through ``queue_dispatch_on_commit``.

    Coalesced per process (at most one kick per ``KICK_WINDOW_S``), so 1,000 emits a
    second do not become 1,000 broker jobs a second. A lost kick costs latency, not
    deliveries: every engine also looks for due rows every ``WEBHOOKS_ENGINE_POLL_S``.
    """
    from django_q.conf import Conf
    from django_q.tasks import async_task

    global _last_kick
    now = time.monotonic()
    with _kick_lock:
        # In sync mode each kick drains in place, before the next emit exists: none may be skipped.
        if now - _last_kick < KICK_WINDOW_S and not Conf.SYNC:
            return
        _last_kick = now
    try:
        async_task(
            "deliveries.tasks.dispatch", time.time(), q_options={"task_name": "dispatch", "broker": kick_broker()}
        )
    except Exception:  # the broker is down: the engines find the rows by polling
        logger.exception("Could not kick an engine; the engines will find the deliveries when they next look")


def queue_dispatch_on_commit() -> None:
    """Kick the dispatcher when the current transaction commits (nothing is sent for a rollback).

    Every writer that makes a delivery due (``emit``, manual retry) comes through here, and
    ``queue_dispatch`` is looked up in this module when called: tests replace it here alone.
    """
    transaction.on_commit(queue_dispatch, robust=True)
