"""`admin_ms_at_1m`: the staff pages with 1,000,000 deliveries in PostgreSQL.

Seeds the scenario's own database (``bench_postbacks``, made and dropped by bench/run.py)
with the seeder ``manage.py time_admin_pages --seed`` uses too
(``webhooks_project/management/scale_seed.py``). Then times, with Django's test client in
this process (server-side time, no network), the deliveries changelist, the orders list
and one order's page, and reports the slowest page's median.
"""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.scenarios import scenario
from deliveries.models import Delivery
from events.models import Order
from webhooks_project.management.scale_seed import seed


@scenario
def admin_at_scale(cfg) -> dict:
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
