"""Re-enabling a channel that was disabled (one click in the admin), and announcing it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from channels import routing
from channels.models import Channel
from common.audit import record
from common.permissions import Action
from deliveries.alerting.announce import announce, channel_summary
from events.catalogue.operations import CHANNEL_RECOVERED

REENABLE = Action(
    "re-enable channel",
    ("channels.view_channel", "channels.change_channel"),
    "You do not have permission to re-enable channels.",
)
# Channels switched back on some other way (the form's "Active" box, the API) announced per run.
ANNOUNCE_PER_RUN = 100


def reenable_channel(*, actor, channel: Channel) -> bool:
    """Switch ``channel`` back on. Returns False when it was already active (nothing done).

    A channel the platform had disabled is announced as recovered (``postbacks.channel.recovered``).
    """
    REENABLE.require(actor)
    now = timezone.now()
    with transaction.atomic():
        updated = Channel.objects.filter(pk=channel.pk, active=False).update(
            active=True, reenabled_at=now, updated_at=now
        )
        if updated:
            routing.changed()  # an update() sends no post_save: the channel is a delivery target again
        channel.refresh_from_db()
        if not updated:
            return False
        disabled = (
            f" (disabled automatically at {channel.disabled_at:%Y-%m-%d %H:%M} UTC)" if channel.disabled_at else ""
        )
        record(user=actor, obj=channel, message=f"Re-enabled{disabled}.")
        if channel.disabled_at:
            _announce_recovered(channel, by=getattr(actor, "email", "") or str(actor or ""))
    return True


def announce_recovered_elsewhere(*, now: dt.datetime | None = None) -> list[int]:
    """Channels disabled automatically and then switched on by other means (the channel form, the API)."""
    now = now or timezone.now()
    switched_on = Channel.objects.filter(active=True, disabled_at__isnull=False, reenabled_at__isnull=True)
    announced = []
    for channel in switched_on.order_by("pk")[:ANNOUNCE_PER_RUN]:
        with transaction.atomic():
            if Channel.objects.filter(pk=channel.pk, reenabled_at__isnull=True).update(reenabled_at=now):
                channel.reenabled_at = now
                _announce_recovered(channel, by="")
                announced.append(channel.pk)
    return announced


def _announce_recovered(channel: Channel, *, by: str) -> None:
    announce(
        CHANNEL_RECOVERED,
        about=f"recovered:{channel.pk}:{channel.disabled_at.isoformat()}",
        payload={
            "channel": channel_summary(channel),
            "disabledAt": channel.disabled_at.isoformat(),
            "reenabledAt": channel.reenabled_at.isoformat(),
            "reenabledBy": by,
        },
        channel_id=channel.pk,
    )
