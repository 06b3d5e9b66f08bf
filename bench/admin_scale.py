"""`admin_ms_at_1m`: the staff pages with 1,000,000 deliveries in PostgreSQL.

Seeds the scenario's own database (``bench_postbacks``, made and dropped by
bench/run.py) with ``INSERT ... SELECT generate_series``: events spread over 30 days,
orders they refer to, two deliveries per event (most succeeded, some failed after four
attempts, a few pending) and their attempts. Then times, with Django's test client in
this process (server-side time, no network), the deliveries changelist, the orders list
and one order's page, and reports the slowest page's median.

Column lists come from the models, so a field the engine adds later gets its default
(or NULL) without this file changing.
"""

from __future__ import annotations

import statistics
import time

from bench.scenarios import postback_channel, setup_django, subscribe

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


def _insert_select(cursor, model, exprs: dict[str, str], source_sql: str, params: dict | None = None) -> int:
    """INSERT INTO <model's table> (every concrete column) SELECT <exprs, else the field's default> <source_sql>."""
    from django.db import connection

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


def seed(*, deliveries: int) -> dict:
    from django.db import connection, transaction

    from channels.models import Subscription
    from deliveries.models import Attempt, Delivery
    from events.models import Event, Order

    events = deliveries // 2
    orders = max(1, events // 5)
    channels = []
    for t, key in enumerate(TYPES):
        for k in range(2):
            channel = postback_channel(name=f"shop-{t}-{k}", url=f"https://hooks{t}.example.net/postbacks/{k}")
            subscribe(key=key, channel=channel)
            channels.append(channel.pk)
    subs = [
        Subscription.objects.get(event_type_id=key, channel_id=channels[t * 2 + k]).pk
        for t, key in enumerate(TYPES)
        for k in range(2)
    ]
    timings = {}
    # Event g (1..events) happens at base + g * step; every tenth has no order; order o's events are o, o+O, ...
    common = {
        "types": TYPES,
        "channels": channels,
        "subs": subs,
        "events": events,
        "orders": orders,
    }
    event_time = "(now() - interval '30 days' + g * (interval '30 days' / %(events)s))"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        began = time.perf_counter()
        _insert_select(
            cursor,
            Order,
            {
                "ref": "'ORD-' || lpad(o::text, 7, '0')",
                "first_event_at": event_time.replace("g *", "o *"),
                # The last event of order o is the largest g = o + k * orders that is <= events.
                "last_event_at": event_time.replace("g *", "(o + %(orders)s * ((%(events)s - o) / %(orders)s)) *"),
            },
            "FROM generate_series(1, %(orders)s) AS o",
            common,
        )
        timings["orders_s"] = time.perf_counter() - began

        began = time.perf_counter()
        _insert_select(
            cursor,
            Event,
            {
                "id": "md5('bench-' || g)::uuid",
                "type": "(%(types)s::text[])[g %% 10 + 1]",
                "source": "(ARRAY['admin', 'shop', 'funnel'])[g %% 3 + 1]",
                "occurred_at": event_time,
                "created_at": event_time,
                "payload": "jsonb_build_object('order', jsonb_build_object('id', 'ORD-' || lpad(((g - 1) %% %(orders)s + 1)::text, 7, '0'), "
                "'total', '49.90', 'currency', 'EUR', 'items', jsonb_build_array(jsonb_build_object('sku', 'EBOOK-1', 'quantity', 1))))",
                "order_ref": "CASE WHEN g %% 10 = 0 THEN '' ELSE 'ORD-' || lpad(((g - 1) %% %(orders)s + 1)::text, 7, '0') END",
            },
            "FROM generate_series(1, %(events)s) AS g",
            common,
        )
        timings["events_s"] = time.perf_counter() - began

        # Delivery d (1..2*events) belongs to event (d + 1) / 2, channel k = d % 2 of its type.
        began = time.perf_counter()
        status = "CASE WHEN d %% 100 < 92 THEN 'succeeded' WHEN d %% 100 < 98 THEN 'failed' ELSE 'pending' END"
        _insert_select(
            cursor,
            Delivery,
            {
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
                "created_at": event_time.replace("g *", "((d + 1) / 2) *"),
                "updated_at": event_time.replace("g *", "((d + 1) / 2) *"),
                "completed_at": f"CASE WHEN d %% 100 < 98 THEN {event_time.replace('g *', '((d + 1) / 2) *')} END",
            },
            "FROM generate_series(1, 2 * %(events)s) AS d",
            common,
        )
        timings["deliveries_s"] = time.perf_counter() - began

        began = time.perf_counter()
        attempt = {
            "delivery": "d.id",
            "number": "n",
            "trigger": "'automatic'",
            "started_at": "d.created_at + (n - 1) * interval '2 minutes'",
            "duration_ms": "20 + d.id %% 80",
            "request_url": "'https://hooks.example.net/postbacks/' || d.channel_id",
            "request_headers": "jsonb_build_object('content-type', 'application/json', 'user-agent', 'Postbacks/0.1.0', "
            "'webhook-id', d.event_id::text, 'webhook-timestamp', '1795430000', "
            "'webhook-signature', 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=')",
            "request_body": '\'{"eventId":"\' || d.event_id || \'","eventType":"\' || d.event_type_id || '
            '\'","occurredAt":"2026-11-01T10:15:00Z","source":"\' || d.source || '
            '\'","triggerUser":null,"webhookConfig":\' || d.subscription_id || '
            '\',"retryCount":\' || (n - 1) || \',"payload":{"order":{"id":"A-1001","total":"49.90"}}}\'',
            "response_status": "CASE WHEN d.status = 'failed' THEN 503 ELSE 200 END",
            "response_headers": '\'{"content-type": "text/plain"}\'::jsonb',
            "response_body": "CASE WHEN d.status = 'failed' THEN 'Service Unavailable' ELSE 'ok' END",
            "error": "CASE WHEN d.status = 'failed' THEN 'http_status' ELSE '' END",
            "error_detail": "''",
        }
        _insert_select(
            cursor,
            Attempt,
            attempt,
            "FROM deliveries_delivery AS d CROSS JOIN LATERAL generate_series(1, d.attempt_count) AS n",
            {},
        )
        timings["attempts_s"] = time.perf_counter() - began
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


def admin_at_scale(cfg) -> dict:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from deliveries.models import Delivery
    from events.models import Order

    if connection.vendor != "postgresql":
        raise RuntimeError("admin_at_scale runs on PostgreSQL only")
    seeded = seed(deliveries=cfg["deliveries"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        seeded["database_size"] = cursor.fetchone()[0]

    user = get_user_model().objects.create_superuser("bench-admin", "admin@example.net", "bench-password")
    client = Client()
    client.force_login(user)
    newest_order = Order.objects.order_by("-last_event_at", "-id").first()
    failed = Delivery.objects.filter(status="failed").order_by("-id").first()
    pages = {
        "deliveries_changelist": reverse("admin:deliveries_delivery_changelist"),
        "orders_changelist": reverse("admin:events_order_changelist"),
        "order_page": reverse("admin:events_order_change", args=[newest_order.pk]),
    }
    extra_pages = {
        "deliveries_failed_filter": reverse("admin:deliveries_delivery_changelist") + "?status__exact=failed",
        "deliveries_page_100": reverse("admin:deliveries_delivery_changelist") + "?p=100",
        "orders_search": reverse("admin:events_order_changelist") + "?q=ORD-00123",
        "delivery_page": reverse("admin:deliveries_delivery_change", args=[failed.pk]),
    }
    measured = {}
    for name, url in {**pages, **extra_pages}.items():
        response = client.get(url)  # warm-up: templates compiled, connection open, pages cached
        if response.status_code != 200:
            raise RuntimeError(f"{name} ({url}) answered {response.status_code}")
        times = []
        for _ in range(cfg["repeats"]):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        measured[name] = {
            "url": url,
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "queries": len(queries),
            "slowest_query_ms": round(max(float(q["time"]) for q in queries.captured_queries) * 1000, 1),
        }
    slowest = max(pages, key=lambda name: measured[name]["median_ms"])
    return {
        "admin_ms_at_1m": measured[slowest]["median_ms"],
        "details": {"slowest_page": slowest, "pages": measured, **seeded, "repeats": cfg["repeats"]},
    }
