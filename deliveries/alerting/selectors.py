"""Reads for the admin: channels disabled automatically that nobody has acted on, open alerts."""

from __future__ import annotations

from django.db.models import Count

from channels.models import Channel
from deliveries.models import Alert

BANNER_CHANNELS = 5
DASHBOARD_ALERTS = 10


def auto_disabled_channels(*, limit: int = BANNER_CHANNELS) -> list[Channel]:
    """Up to ``limit`` + 1 channels (one more tells "and more"), latest first: one query on a small table."""
    return list(
        Channel.objects.filter(active=False, disabled_at__isnull=False, reenabled_at__isnull=True)
        .only("pk", "name", "disabled_at", "disabled_reason", "active", "reenabled_at")
        .order_by("-disabled_at", "-pk")[: limit + 1]
    )


def open_alerts(*, limit: int = DASHBOARD_ALERTS) -> list[Alert]:
    """The open alerts, newest first, with their channel and how many deliveries they hold (one query)."""
    return list(
        Alert.objects.filter(cleared_at__isnull=True)
        .select_related("channel")
        .annotate(undelivered=Count("deliveries"))
        .order_by("-raised_at", "-pk")[:limit]
    )
