"""What ``emit`` costs in the database: one event with two matching subscriptions against a bare one-row insert."""

from __future__ import annotations

import time

from django.contrib.auth.models import Group
from django.db import connection, transaction

from bench.scenarios import scenario
from bench.scenarios.helpers import emit_order, postback_channel, subscribe
from deliveries.models import Delivery


@scenario
def emit_vs_insert(cfg) -> dict:
    """``emit()`` of ``order.completed`` (two subscriptions), one per transaction, against
    ``Group.objects.create`` (one row, one unique index), one per transaction: rounds of
    ``seconds`` each, interleaved, on the same database in the same process."""
    for n in range(2):
        subscribe(key="order.completed", channel=postback_channel(name=f"emit-{n}", url=f"{cfg['receiver']}/emit/{n}"))
    counter = iter(range(10**9))

    def one_emit():
        with transaction.atomic():
            emit_order(40_000_000 + next(counter))

    def one_insert():
        with transaction.atomic():
            Group.objects.create(name=f"bench-{next(counter)}")

    kinds = {"emit": one_emit, "insert": one_insert}
    for work in kinds.values():  # warm: imports, caches, prepared plans
        for _ in range(50):
            work()
    done = {k: 0 for k in kinds}
    spent = {k: 0.0 for k in kinds}
    for _ in range(cfg["rounds"]):
        for kind, work in kinds.items():
            began = time.perf_counter()
            deadline = began + cfg["seconds"]
            while time.perf_counter() < deadline:
                work()
                done[kind] += 1
            spent[kind] += time.perf_counter() - began
    emit_rate, insert_rate = done["emit"] / spent["emit"], done["insert"] / spent["insert"]
    deliveries = Delivery.objects.count()
    if deliveries != 2 * (done["emit"] + 50):
        raise RuntimeError(
            f"{done['emit'] + 50} events emitted but {deliveries} deliveries written (expected two each)"
        )
    return {
        cfg["key"]: emit_rate / insert_rate,
        "details": {
            "emit_per_s": round(emit_rate, 1),
            "insert_per_s": round(insert_rate, 1),
            "emits": done["emit"],
            "inserts": done["insert"],
            "subscriptions": 2,
            "vendor": connection.vendor,
            "rounds": cfg["rounds"],
            "seconds_per_round": cfg["seconds"],
        },
    }
