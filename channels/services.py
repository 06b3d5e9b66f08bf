"""Writes on channels, subscriptions and the event catalogue's toggle.

Called by the admin and the API; they check the user's permissions first.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from channels.models import Channel, ChannelKind, Subscription, generate_secret
from channels.validation import validate_sources
from events.models import Availability, EventType

SECRET_ROTATION_GRACE = timedelta(hours=24)


def signing_secrets(channel: Channel, *, now=None) -> list[str]:
    """The secrets a postback is signed with: the current one, and the previous one during its grace period."""
    now = now or timezone.now()
    secrets = [channel.secret]
    if channel.previous_secret and channel.previous_secret_expires_at and channel.previous_secret_expires_at > now:
        secrets.append(channel.previous_secret)
    return secrets


@transaction.atomic
def rotate_secret(*, channel: Channel, grace: timedelta = SECRET_ROTATION_GRACE) -> str:
    """Give the channel a new secret; the old one keeps signing beside it for ``grace``."""
    if channel.kind != ChannelKind.POSTBACK:
        raise ValidationError({"kind": "Only postback channels have a signing secret."})
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    channel.previous_secret = channel.secret
    channel.previous_secret_expires_at = timezone.now() + grace
    channel.secret = generate_secret()
    channel.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return channel.secret


def set_event_type_enabled(*, event_type: EventType, enabled: bool, user=None) -> EventType:
    """Switch an event type on or off. On-demand types need the ``enable_on_demand`` permission to go on."""
    if (
        enabled
        and event_type.availability == Availability.ON_DEMAND
        and user is not None
        and not user.has_perm("events.enable_on_demand")
    ):
        raise PermissionDenied(f"{event_type.key} is available on demand; you may not switch it on.")
    if event_type.enabled != enabled:
        event_type.enabled = enabled
        event_type.save(update_fields=["enabled"])
    return event_type


def attach_channel(*, event_type: EventType, channel: Channel, sources, active: bool = True) -> Subscription:
    """Attach ``channel`` to ``event_type`` for ``sources`` (validated; raises ValidationError by field)."""
    subscription = Subscription(event_type=event_type, channel=channel, active=active)
    subscription.sources = validate_sources(sources)
    subscription.full_clean()
    subscription.save()
    return subscription


def update_subscription(*, subscription: Subscription, sources=None, active=None) -> Subscription:
    fields = []
    if sources is not None:
        subscription.sources = validate_sources(sources)
        fields += ["source_admin", "source_shop", "source_funnel"]
    if active is not None:
        subscription.active = active
        fields.append("active")
    subscription.full_clean()
    if fields:
        subscription.save(update_fields=fields)
    return subscription
