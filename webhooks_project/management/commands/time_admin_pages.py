"""Time every staff page (server side, Django's test client) and count its queries.

    DATABASE_URL=postgres://.../scratch_db manage.py migrate
    DATABASE_URL=postgres://.../scratch_db manage.py time_admin_pages --seed 1000000

``--seed N`` fills an *empty* database with N deliveries using the seeder the benchmark uses too
(``webhooks_project/management/scale_seed.py``: generate_series inserts, then VACUUM ANALYZE); without it the
pages are timed on whatever the database holds. Use a scratch database: the seed is not
removed afterwards.
"""

import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from deliveries.models import Delivery, DeliveryStatus
from events.models import Order
from webhooks_project.management.scale_seed import seed as seed_deliveries

BENCH_USERNAME = "admin-page-timer"


class Command(BaseCommand):
    help = "Time the staff pages (median of --repeats runs) and count their queries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed this many deliveries first (empty database only)."
        )
        parser.add_argument("--repeats", type=int, default=5)

    def handle(self, *args, seed, repeats, **options):
        if seed:
            if Delivery.objects.exists():
                raise CommandError("--seed needs an empty database: this one already has deliveries.")
            if connection.vendor != "postgresql":
                raise CommandError("--seed uses PostgreSQL's generate_series; point DATABASE_URL at PostgreSQL.")
            began = time.perf_counter()
            seeded = seed_deliveries(deliveries=seed)
            self.stdout.write(f"seeded {seeded['counts']} in {time.perf_counter() - began:.0f} s")

        user, _ = get_user_model().objects.get_or_create(
            username=BENCH_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)

        self.stdout.write(f"{connection.vendor}, {self._approximate_rows()} deliveries (approx.)")
        self.stdout.write(f"{'page':<34} {'median ms':>10} {'max ms':>8} {'queries':>8}")
        for name, url in self._pages().items():
            response = client.get(url)  # warm-up: templates compiled, connection open
            if response.status_code != 200:
                raise CommandError(f"{name} ({url}) answered {response.status_code}")
            times = []
            for _ in range(repeats):
                began = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    client.get(url)
                times.append((time.perf_counter() - began) * 1000)
            self.stdout.write(
                f"{name:<34} {statistics.median(times):>10.1f} {max(times):>8.1f} {len(queries.captured_queries):>8}"
            )

    def _approximate_rows(self) -> str:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [Delivery._meta.db_table])
                return f"{cursor.fetchone()[0]:,}"
        return f"{Delivery.objects.count():,}"

    def _pages(self) -> dict[str, str]:
        deliveries = reverse("admin:deliveries_delivery_changelist")
        orders = reverse("admin:events_order_changelist")
        newest_order = Order.objects.order_by("-last_event_at", "-id").first()
        failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).order_by("-id").first()
        any_delivery = failed or Delivery.objects.order_by("-id").first()
        channel_id = any_delivery.channel_id if any_delivery else 0
        week_ago = (timezone.now() - timedelta(days=7)).replace(microsecond=0).isoformat()
        pages = {
            "dashboard (admin index)": reverse("admin:index"),
            "system notifications": reverse("admin:events_eventtype_changelist"),
            "event type page": reverse("admin:events_eventtype_change", args=["order.completed"]),
            "channels": reverse("admin:channels_channel_changelist"),
            "deliveries": deliveries,
            "deliveries ?p=100": deliveries + "?p=100",
            "deliveries status=failed": deliveries + "?status__exact=failed",
            "deliveries event type": deliveries + "?event_type__key__exact=refund.applied",
            "deliveries channel": deliveries + f"?channel__id__exact={channel_id}",
            "deliveries source=funnel": deliveries + "?source=funnel",
            "deliveries last 7 days": deliveries + "?" + urlencode({"created_at__gte": week_ago}),
            "deliveries failed+type+channel": deliveries
            + f"?status__exact=failed&event_type__key__exact=order.completed&channel__id__exact={channel_id}",
            "orders": orders,
            "orders ?p=10": orders + "?p=10",
        }
        if newest_order:
            pages["orders search"] = orders + "?" + urlencode({"q": newest_order.ref[:-2]})
            pages["deliveries search order ref"] = deliveries + "?" + urlencode({"q": newest_order.ref})
            pages["order page (newest)"] = reverse("admin:events_order_change", args=[newest_order.pk])
        if any_delivery:
            pages["delivery page"] = reverse("admin:deliveries_delivery_change", args=[any_delivery.pk])
            pages["channel page"] = reverse("admin:channels_channel_change", args=[channel_id])
        return pages
