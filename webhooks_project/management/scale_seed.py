"""Fill an empty PostgreSQL database with N deliveries, to time the staff pages at scale.

Used by ``manage.py time_admin_pages --seed N`` and by the benchmark's ``admin_ms_at_1m``
(``bench/scenarios/admin_scale.py``). ``INSERT ... SELECT generate_series``: events
spread over 30 days, orders they refer to, two deliveries per event (most succeeded,
some failed after four attempts, a few pending) and their attempts, then VACUUM ANALYZE.
Bulk fake data, so it writes rows directly rather than through the services.

Column lists come from the models, so a field the engine adds later gets its default
(or NULL) without this file changing.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from channels.kinds import ChannelKind
from channels.models import Channel, Subscription
from deliveries.models import Attempt, Delivery
from events.models import Event, EventType, Order

TYPES = [
    "order.completed",
    "transaction.approved",
    "transaction.declined",
    "refund.applied",
    "contact.created",
    "shipping.tracking_updated",
    "subscription.canceled",
    "customer.created",
    "survey.completed",
    "product.conflict",
]
# Event g (1..events) happens at base + g * step; every tenth has no order; order o's events are o, o+O, ...
EVENT_TIME = "(now() - interval '30 days' + g * (interval '30 days' / %(events)s))"


def seed(*, deliveries: int) -> dict:
    """Seed ``deliveries`` deliveries (and their events, orders, attempts); the counts and timings."""
    events = deliveries // 2
    channels, subs = _channels_and_subscriptions()
    params = {"types": TYPES, "channels": channels, "subs": subs, "events": events, "orders": max(1, events // 5)}
    timings = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        for name, insert in (
            ("orders_s", _insert_orders),
            ("events_s", _insert_events),
            ("deliveries_s", _insert_deliveries),
            ("attempts_s", _insert_attempts),
        ):
            began = time.perf_counter()
            insert(cursor, params)
            timings[name] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        # What autovacuum would have done to a table that grew over weeks: statistics and
        # the visibility map (index-only scans).
        for model in (Order, Event, Delivery, Attempt):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    timings["vacuum_analyze_s"] = time.perf_counter() - began
    counts = {
        "events": Event.objects.count(),
        "orders": Order.objects.count(),
        "deliveries": Delivery.objects.count(),
        "attempts": Attempt.objects.count(),
    }
    return {"counts": counts, "seed_timings_s": {k: round(v, 1) for k, v in timings.items()}}


def _channels_and_subscriptions() -> tuple[list[int], list[int]]:
    """Two postback channels per type, each attached for every source; their ids and the subscriptions'."""
    channels, subs = [], []
    for t, key in enumerate(TYPES):
        EventType.objects.filter(key=key).update(enabled=True)
        for k in range(2):
            channel = Channel.objects.create(
                name=f"shop-{t}-{k}", kind=ChannelKind.POSTBACK, url=f"https://hooks{t}.example.net/postbacks/{k}"
            )
            channels.append(channel.pk)
            subs.append(Subscription.objects.create(event_type_id=key, channel=channel).pk)
    return channels, subs


def _insert_select(cursor, model, exprs: dict[str, str], source_sql: str, params: dict | None = None) -> int:
    """INSERT INTO <model's table> (every concrete column) SELECT <exprs, else the field's default> <source_sql>."""
    columns, values, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in exprs:
            continue  # serial
        columns.append(connection.ops.quote_name(field.column))
        if field.name in exprs:
            values.append(exprs[field.name])
        elif field.null:
            values.append("NULL")
        elif field.has_default():
            values.append(f"%(_default_{len(defaults)})s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            raise RuntimeError(f"{model.__name__}.{field.name} needs a value in the seed")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} {source_sql}"
    )
    cursor.execute(sql, {**(params or {}), **{f"_default_{i}": value for i, value in enumerate(defaults)}})
    return cursor.rowcount


def _insert_orders(cursor, params: dict) -> None:
    exprs = {
        "ref": "'ORD-' || lpad(o::text, 7, '0')",
        "first_event_at": EVENT_TIME.replace("g *", "o *"),
        # The last event of order o is the largest g = o + k * orders that is <= events.
        "last_event_at": EVENT_TIME.replace("g *", "(o + %(orders)s * ((%(events)s - o) / %(orders)s)) *"),
    }
    _insert_select(cursor, Order, exprs, "FROM generate_series(1, %(orders)s) AS o", params)


def _insert_events(cursor, params: dict) -> None:
    order_ref = "'ORD-' || lpad(((g - 1) %% %(orders)s + 1)::text, 7, '0')"
    exprs = {
        "id": "md5('bench-' || g)::uuid",
        "type": "(%(types)s::text[])[g %% 10 + 1]",
        "source": "(ARRAY['admin', 'shop', 'funnel'])[g %% 3 + 1]",
        "occurred_at": EVENT_TIME,
        "created_at": EVENT_TIME,
        "payload": f"jsonb_build_object('order', jsonb_build_object('id', {order_ref}, "
        "'total', '49.90', 'currency', 'EUR', 'items', jsonb_build_array(jsonb_build_object('sku', 'EBOOK-1', 'quantity', 1))))",
        "order_ref": f"CASE WHEN g %% 10 = 0 THEN '' ELSE {order_ref} END",
    }
    _insert_select(cursor, Event, exprs, "FROM generate_series(1, %(events)s) AS g", params)


def _insert_deliveries(cursor, params: dict) -> None:
    # Delivery d (1..2*events) belongs to event (d + 1) / 2, channel k = d % 2 of its type.
    status = "CASE WHEN d %% 100 < 92 THEN 'succeeded' WHEN d %% 100 < 98 THEN 'failed' ELSE 'pending' END"
    at = EVENT_TIME.replace("g *", "((d + 1) / 2) *")
    exprs = {
        "event": "md5('bench-' || ((d + 1) / 2))::uuid",
        "subscription": "(%(subs)s::bigint[])[(((d + 1) / 2) %% 10) * 2 + d %% 2 + 1]",
        "channel": "(%(channels)s::bigint[])[(((d + 1) / 2) %% 10) * 2 + d %% 2 + 1]",
        "event_type": "(%(types)s::text[])[((d + 1) / 2) %% 10 + 1]",
        "source": "(ARRAY['admin', 'shop', 'funnel'])[((d + 1) / 2) %% 3 + 1]",
        "status": status,
        "attempt_count": "CASE WHEN d %% 100 BETWEEN 92 AND 97 THEN 4 ELSE 1 END",
        "automatic_attempts": "CASE WHEN d %% 100 BETWEEN 92 AND 97 THEN 4 ELSE 1 END",
        "next_attempt_at": "CASE WHEN d %% 100 >= 98 THEN now() + interval '10 minutes' END",
        "last_error": "CASE WHEN d %% 100 BETWEEN 92 AND 97 THEN 'http_status' ELSE '' END",
        "last_response_status": "CASE WHEN d %% 100 < 92 THEN 200 ELSE 503 END",
        "failure_reason": "CASE WHEN d %% 100 BETWEEN 92 AND 97 THEN 'HTTP 503 after 4 attempts' ELSE '' END",
        "created_at": at,
        "updated_at": at,
        "completed_at": f"CASE WHEN d %% 100 < 98 THEN {at} END",
    }
    _insert_select(cursor, Delivery, exprs, "FROM generate_series(1, 2 * %(events)s) AS d", params)


def _insert_attempts(cursor, _params: dict) -> None:
    # Every delivery written so far gets its attempts: nothing to pass.
    exprs = {
        "delivery": "d.id",
        "number": "n",
        "trigger": "'automatic'",
        "started_at": "d.created_at + (n - 1) * interval '2 minutes'",
        "duration_ms": "20 + d.id %% 80",
        "request_url": "'https://hooks.example.net/postbacks/' || d.channel_id",
        "request_headers": "jsonb_build_object('content-type', 'application/json', 'user-agent', 'Postbacks/0.1.0', "
        "'webhook-id', d.event_id::text, 'webhook-timestamp', '1795430000', "
        "'webhook-signature', 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=')",
        "response_status": "CASE WHEN d.status = 'failed' THEN 503 ELSE 200 END",
        "response_headers": '\'{"content-type": "text/plain"}\'::jsonb',
        "response_body": "CASE WHEN d.status = 'failed' THEN 'Service Unavailable' ELSE 'ok' END",
        "error": "CASE WHEN d.status = 'failed' THEN 'http_status' ELSE '' END",
        "error_detail": "''",
    }
    source = "FROM deliveries_delivery AS d CROSS JOIN LATERAL generate_series(1, d.attempt_count) AS n"
    _insert_select(cursor, Attempt, exprs, source, {})
