"""Undelivered alerts (SPEC section 10): critical deliveries not succeeded ``WEBHOOKS_ALERT_AFTER_MIN`` after their event.

Per channel that receives critical types: its overdue deliveries (an index on what has not
succeeded, by age, over a bounded window) join the channel's open alert, or raise one, unless
one was raised in the last hour. An alert clears when every delivery in it has succeeded (or
a later delivery of the same event to the same channel has: a resend). Raising one is shown on
the dashboard, announced (``postbacks.alert.undelivered``, never to that channel) and e-mailed.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from channels.models import Channel, Subscription
from deliveries.alerting.announce import OPERATIONAL_TYPES, announce, channel_summary
from deliveries.alerting.mail import channel_page, mail_channel_staff_on_commit
from deliveries.models import Alert, Delivery, DeliveryStatus
from events.catalogue.operations import ALERT_UNDELIVERED

logger = logging.getLogger(__name__)

ALERT_INTERVAL = dt.timedelta(hours=1)
# Deliveries that became overdue longer ago than this are no longer looked for (> ALERT_INTERVAL,
# so what the hourly limit held back is still found once it allows a new alert).
LOOKBACK = dt.timedelta(hours=3)
OVERDUE_PER_CHANNEL = 100
OPEN_ALERTS_PER_RUN = 500
UNSUCCEEDED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


def raise_alerts(*, now: dt.datetime | None = None) -> list[int]:
    """Raise or extend the alerts of channels with overdue critical deliveries; return the new alerts' ids."""
    now = now or timezone.now()
    due_before = now - dt.timedelta(minutes=settings.WEBHOOKS_ALERT_AFTER_MIN)
    channel_ids = (
        Subscription.objects.filter(event_type__critical=True)
        .exclude(event_type_id__in=OPERATIONAL_TYPES)
        .values_list("channel_id", flat=True)
        .distinct()
    )
    raised = []
    for channel_id in sorted(set(channel_ids)):
        overdue = list(
            Delivery.objects.filter(
                channel_id=channel_id,
                status__in=UNSUCCEEDED,
                event_type__critical=True,
                is_test=False,
                created_at__lte=due_before,
                created_at__gt=due_before - LOOKBACK,
            )
            .exclude(event_type_id__in=OPERATIONAL_TYPES)
            .order_by("created_at")
            .values_list("pk", flat=True)[:OVERDUE_PER_CHANNEL]
        )
        if overdue:
            alert = _raise_or_extend(channel_id=channel_id, delivery_ids=overdue, now=now)
            if alert is not None:
                raised.append(alert.pk)
    return raised


def _raise_or_extend(*, channel_id: int, delivery_ids: list[int], now: dt.datetime) -> Alert | None:
    open_alert = Alert.objects.filter(channel_id=channel_id, cleared_at__isnull=True).first()
    if open_alert is not None:
        open_alert.deliveries.add(*delivery_ids)
        return None
    if Alert.objects.filter(channel_id=channel_id, raised_at__gt=now - ALERT_INTERVAL).exists():
        return None  # at most one per channel per hour
    try:
        with transaction.atomic():
            alert = Alert.objects.create(channel_id=channel_id, raised_at=now)
            alert.deliveries.add(*delivery_ids)
            _tell(alert, delivery_ids)
    except IntegrityError:
        return None  # another watch job raised it a moment ago
    return alert


def _tell(alert: Alert, delivery_ids: list[int]) -> None:
    channel = Channel.objects.get(pk=alert.channel_id)
    rows = list(
        Delivery.objects.filter(pk__in=delivery_ids).order_by("pk").values("pk", "event_type_id", "status", "event_id")
    )
    logger.warning("Alert %s: %d critical deliveries to channel %s not delivered", alert.pk, len(rows), channel.pk)
    announce(
        ALERT_UNDELIVERED,
        about=f"alert:{alert.pk}",
        payload={
            "alert": {"id": alert.pk, "raisedAt": alert.raised_at.isoformat(), "undelivered": len(rows)},
            "channel": channel_summary(channel),
            "deliveries": [
                {"id": r["pk"], "eventType": r["event_type_id"], "status": r["status"], "eventId": str(r["event_id"])}
                for r in rows[:20]
            ],
        },
        channel_id=channel.pk,
    )
    minutes = settings.WEBHOOKS_ALERT_AFTER_MIN
    # Staff e-mails are written in the installation's language (LANGUAGE_CODE), whoever's request ran this.
    with translation.override(settings.LANGUAGE_CODE):
        lines = "\n".join(
            gettext("- delivery #%(id)s: %(type)s (%(status)s)")
            % {"id": r["pk"], "type": r["event_type_id"], "status": r["status"]}
            for r in rows[:20]
        )
        subject = ngettext(
            "%(count)d critical event not delivered to “%(channel)s”",
            "%(count)d critical events not delivered to “%(channel)s”",
            len(rows),
        ) % {"count": len(rows), "channel": channel.name}
        body = gettext(
            "These deliveries to %(channel)s had not succeeded %(minutes)s minutes after their event:\n"
            "%(lines)s\n\nThe channel: %(page)s\n"
        ) % {"channel": channel.name, "minutes": f"{minutes:g}", "lines": lines, "page": channel_page(channel)}
    mail_channel_staff_on_commit(subject=subject, body=body)


def clear_alerts(*, now: dt.datetime | None = None) -> list[int]:
    """Clear the open alerts whose deliveries have all succeeded (or been resent successfully)."""
    now = now or timezone.now()
    resent_ok = Delivery.objects.filter(
        event_id=OuterRef("event_id"), channel_id=OuterRef("channel_id"), status=DeliveryStatus.SUCCEEDED
    )
    cleared = []
    for alert in Alert.objects.filter(cleared_at__isnull=True).order_by("raised_at")[:OPEN_ALERTS_PER_RUN]:
        undelivered = alert.deliveries.exclude(status=DeliveryStatus.SUCCEEDED).exclude(Exists(resent_ok))
        if not undelivered.exists() and Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(
            cleared_at=now
        ):
            cleared.append(alert.pk)
    return cleared
