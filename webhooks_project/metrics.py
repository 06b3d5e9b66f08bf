"""``/metrics`` in the Prometheus text format (SPEC section 11), for a bearer token or staff.

Every figure is read from the database when Prometheus scrapes, not counted in the process:
the attempts are made by engines in any number of worker processes on any number of
machines, and only the database sees all of them (prometheus-client's in-process counters
would need one scrape target per worker process, and forget on every restart). The cost is
a fixed handful of aggregate queries on indexes; the attempt histogram covers the last
``METRICS_ATTEMPT_WINDOW_S`` seconds (an index range), with the ``METRICS_MAX_CHANNELS``
busiest channels labelled and the rest summed as channel "other".
"""

from __future__ import annotations

import datetime as dt
import hmac

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from deliveries import operations

STAFF_PERMISSION = "deliveries.view_delivery"


@never_cache
@require_safe
def metrics(request):
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _refusal(request) -> HttpResponse | None:
    """None when the caller may read the metrics; else 401 (no credentials) or 403."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        expected = settings.METRICS_TOKEN
        if scheme.lower() == "bearer" and expected and hmac.compare_digest(token.strip().encode(), expected.encode()):
            return None
        return HttpResponse("Forbidden: wrong or unknown token.\n", status=403, content_type="text/plain")
    user = request.user
    if user.is_authenticated:
        if user.is_active and user.is_staff and user.has_perm(STAFF_PERMISSION):
            return None
        return HttpResponse("Forbidden: staff with the view deliveries permission only.\n", status=403)
    response = HttpResponse("Authentication required: a bearer token or a staff login.\n", status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


class DatabaseCollector:
    """Collects everything at scrape time from the database (see the module docstring)."""

    def collect(self):
        now = timezone.now()
        yield from self._deliveries(now)
        yield from self._attempts(now)
        yield from self._channels()
        yield from self._workers(now)
        yield from self._optional_models()

    def _deliveries(self, now):
        in_progress = GaugeMetricFamily(
            "postbacks_deliveries_in_progress", "Deliveries pending or sending, all of them.", labels=["status"]
        )
        for status, n in operations.deliveries_in_progress().items():
            in_progress.add_metric([status], n)
        yield in_progress
        window = settings.METRICS_DELIVERY_WINDOW_S
        recent = GaugeMetricFamily(
            "postbacks_deliveries_recent",
            f"Deliveries created in the last {window:g} s, by status now.",
            labels=["status"],
        )
        since = now - dt.timedelta(seconds=window)
        for status, n in operations.deliveries_by_status_since(since=since).items():
            recent.add_metric([status], n)
        yield recent
        backlog = operations.due_backlog(now=now)
        yield GaugeMetricFamily("postbacks_due_backlog", "Pending deliveries whose time has come.", value=backlog.due)
        yield GaugeMetricFamily(
            "postbacks_oldest_due_age_seconds",
            "How long the oldest due pending delivery has waited (0: none due).",
            value=backlog.oldest_due_age_s,
        )

    def _attempts(self, now):
        window = settings.METRICS_ATTEMPT_WINDOW_S
        histogram = HistogramMetricFamily(
            "postbacks_attempt_duration_seconds",
            f"Attempts finished in the last {window:g} s by channel and outcome, by duration (a sliding window: "
            "use histogram_quantile() and _count directly, not rate()).",
            labels=["channel", "channel_name", "outcome"],
        )
        series = operations.recent_attempts(window_s=window, max_channels=settings.METRICS_MAX_CHANNELS, now=now)
        for s in series:
            buckets = [(_bound(b), n) for b, n in zip(operations.DURATION_BUCKETS, s.buckets, strict=True)]
            buckets.append(("+Inf", s.count))
            histogram.add_metric([s.channel, s.channel_name, s.outcome], buckets, sum_value=s.sum_s)
        yield histogram
        yield GaugeMetricFamily(
            "postbacks_attempt_window_seconds", "The window of the attempt histogram.", value=window
        )

    def _channels(self):
        states = operations.channel_states(examples=0)
        gauge = GaugeMetricFamily(
            "postbacks_channels", "Channels by state (cooling: breaker open or probing).", labels=["state"]
        )
        for state in ("active", "cooling", "inactive"):
            gauge.add_metric([state], getattr(states, state))
        yield gauge

    def _workers(self, now):
        beats = operations.heartbeats(now=now)
        yield GaugeMetricFamily(
            "postbacks_workers_alive",
            f"Worker engines with a heartbeat in the last {settings.WEBHOOKS_WORKER_MAX_AGE_S:g} s.",
            value=beats.workers_alive,
        )
        yield GaugeMetricFamily(
            "postbacks_workers_in_flight", "Requests in flight in the live engines.", value=beats.in_flight
        )
        age = GaugeMetricFamily(
            "postbacks_heartbeat_age_seconds",
            "Seconds since the youngest heartbeat of each kind (absent: never seen).",
            labels=["kind"],
        )
        for kind, seconds in (("engine", beats.worker_age_s), ("sweeper", beats.sweeper_age_s)):
            if seconds is not None:
                age.add_metric([kind], seconds)
        yield age

    def _optional_models(self):
        """Recover jobs and open alerts, once those models exist (issue 11's other parts)."""
        recover_job = _model("deliveries", "RecoverJob")
        if recover_job is not None:
            gauge = GaugeMetricFamily("postbacks_recover_jobs", "Recover jobs by status.", labels=["status"])
            for status, n in recover_job.objects.values_list("status").annotate(n=Count("pk")).order_by():
                gauge.add_metric([str(status)], n)
            yield gauge
        alert = _model("deliveries", "Alert")
        if alert is not None:
            yield GaugeMetricFamily(
                "postbacks_alerts_open",
                "Undelivered alerts not yet cleared.",
                value=alert.objects.filter(Q(cleared_at__isnull=True)).count(),
            )


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _bound(seconds: float) -> str:
    return f"{seconds:g}"
