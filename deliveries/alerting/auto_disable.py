"""Auto-disable (SPEC section 10): a channel whose attempts have all failed for ``WEBHOOKS_DISABLE_AFTER_HOURS``.

A channel is disabled when, X hours being the setting and the window the last X hours:

- it has not succeeded in the window (its latest succeeded delivery, an index lookup, is older);
- the window holds at least ``WEBHOOKS_DISABLE_MIN_ATTEMPTS`` finished attempts, all failed; and
- its failing streak began before the window: an attempt before the window and after its last
  success exists (so it has been failing for at least X hours, not merely silent, then failing).

Re-enabling counts as a success: a channel switched back on gets a whole window again.

Per channel that is at most three bounded, indexed queries, and a channel that succeeded in the
window costs one. The deactivation is a conditional UPDATE (``active=True`` to ``False``), so of
two watch jobs running at once only one disables, announces and e-mails.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from channels import routing
from channels.models import Channel
from deliveries.alerting.announce import announce, channel_summary
from deliveries.alerting.mail import channel_page, mail_channel_staff_on_commit
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind, Trigger
from events.catalogue.operations import CHANNEL_DISABLED

logger = logging.getLogger(__name__)

# Channels looked at per run, oldest first (a deployment has hundreds, not thousands).
CHANNELS_PER_RUN = 2000


def disable_failing_channels(*, now: dt.datetime | None = None, limit: int = CHANNELS_PER_RUN) -> list[int]:
    """Disable every active channel that meets the rule; return their ids."""
    now = now or timezone.now()
    window_start = now - dt.timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS)
    # A channel younger than the window cannot have been failing for all of it.
    candidates = Channel.objects.filter(active=True, created_at__lt=window_start).order_by("pk")
    disabled = []
    for channel_id, reenabled_at in candidates.values_list("pk", "reenabled_at")[:limit]:
        reason = failing_streak_reason(channel_id=channel_id, window_start=window_start, reenabled_at=reenabled_at)
        if reason and _disable(channel_id=channel_id, reason=reason, now=now):
            disabled.append(channel_id)
    return disabled


def failing_streak_reason(
    *, channel_id: int, window_start: dt.datetime, reenabled_at: dt.datetime | None = None
) -> str | None:
    """Why the channel is to be disabled, or None when it is not.

    Re-enabling a channel starts its count again, as a success would: it gets a whole window.
    """
    if reenabled_at is not None and reenabled_at >= window_start:
        return None
    # Test sends count for neither side: a staff member's test says nothing about the shop's traffic.
    last_success = Delivery.objects.filter(
        channel_id=channel_id, status=DeliveryStatus.SUCCEEDED, is_test=False
    ).aggregate(at=Max("completed_at"))["at"]
    if last_success is not None and last_success >= window_start:
        return None
    if reenabled_at is not None and (last_success is None or reenabled_at > last_success):
        last_success = reenabled_at
    # A test send's attempts all have the trigger ``test`` (they are never retried): no join needed.
    attempts = (
        Attempt.objects.filter(delivery__channel_id=channel_id)
        .exclude(trigger=Trigger.TEST)
        .order_by("-delivery_id", "-number")
    )
    needed = settings.WEBHOOKS_DISABLE_MIN_ATTEMPTS
    in_window = list(
        attempts.filter(started_at__gte=window_start, finished_at__isnull=False).values_list(
            "response_status", "error", "error_detail"
        )[:needed]
    )
    if len(in_window) < needed:
        return None
    before = attempts.filter(started_at__lt=window_start)
    if last_success is not None:
        before = before.filter(started_at__gt=last_success)
    if not before.exists():
        return None
    status, error, detail = in_window[0]
    last = describe_attempt(status, error, detail)
    hours = settings.WEBHOOKS_DISABLE_AFTER_HOURS
    since = f"no success since {last_success:%Y-%m-%d %H:%M} UTC" if last_success else "it has never succeeded"
    return f"Every attempt in the last {hours:g} h failed (at least {needed}); {since}. The last one: {last}."


def describe_attempt(status: int | None, error: str, detail: str) -> str:
    if error == ErrorKind.HTTP_STATUS or (status and not error):
        return f"HTTP {status}"
    label = ErrorKind(error).label if error in ErrorKind.values else error
    return f"{label}: {detail[:200]}" if detail else str(label)


def _disable(*, channel_id: int, reason: str, now: dt.datetime) -> bool:
    with transaction.atomic():
        updated = Channel.objects.filter(pk=channel_id, active=True).update(
            active=False, disabled_at=now, disabled_reason=reason, reenabled_at=None, updated_at=now
        )
        if not updated:
            return False
        routing.changed()  # an update() sends no post_save: the channel is no longer a delivery target
        channel = Channel.objects.get(pk=channel_id)
        logger.warning("Channel %s (%s) disabled automatically: %s", channel.pk, channel.name, reason)
        announce(
            CHANNEL_DISABLED,
            about=f"disabled:{channel.pk}:{now.isoformat()}",
            payload={"channel": channel_summary(channel), "disabledAt": now.isoformat(), "reason": reason},
            channel_id=channel.pk,
        )
        # Staff e-mails are written in the installation's language (LANGUAGE_CODE).
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("Channel “%(channel)s” was disabled automatically") % {"channel": channel.name}
            body = gettext("%(reason)s\n\nRe-enable it on its page: %(page)s\n") % {
                "reason": reason,
                "page": channel_page(channel),
            }
        mail_channel_staff_on_commit(subject=subject, body=body)
    return True
