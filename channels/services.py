"""Writes on channels and subscriptions: create, change, delete, rotate the secret; attach, edit, detach.

The admin and the API both call these, with the request's user: each service checks that
user's permission (``common.permissions``; the actions in ``channels.permissions``), so both
refuse the same things with the same words, and records the change in the audit trail
(``common.audit``). ``user=None`` is the platform's own code. Invalid input raises
``ValidationError`` keyed by field.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from channels.exceptions import ChannelInUse
from channels.kinds import ChannelKind
from channels.masking import keep_masked_values
from channels.models import Channel, Subscription
from channels.permissions import REVEAL, ROTATE
from channels.secrets import MAX_SIGNING_SECRETS, earlier_secrets, generate_secret
from channels.validation import validate_custom_secret, validate_sources
from common.audit import ADDITION, DELETION, describe_changes, record
from common.masking import mask_query_strings
from common.permissions import require_permission
from events.formats import PayloadFormat
from events.models import EventType

SECRET_ROTATION_GRACE = timedelta(hours=24)
# The permission each action needs; the admin's pages and the API ask for the same ones.
CREATE_PERMISSION = "channels.add_channel"
CHANGE_PERMISSION = "channels.change_channel"
DELETE_PERMISSION = "channels.delete_channel"
ATTACH_PERMISSION = "channels.add_subscription"
EDIT_ATTACHMENT_PERMISSION = "channels.change_subscription"
DETACH_PERMISSION = "channels.delete_subscription"
# What a channel's create and change may set (the secret has its own service).
CHANNEL_FIELDS = (
    "name",
    "description",
    "metadata",
    "kind",
    "url",
    "email_to",
    "format",
    "headers",
    "timeout",
    "active",
)
CHANNEL_IN_USE = (
    "This channel has deliveries in the log, so it cannot be deleted. Deactivate it instead "
    "(untick “Active”, or set active: false over the API) to stop sending to it; its deliveries "
    "are purged after the retention period."
)


# --- Channels ----------------------------------------------------------------------


def create_channel(
    *,
    name: str,
    kind: str = ChannelKind.POSTBACK,
    url: str = "",
    email_to: str = "",
    format: str = PayloadFormat.STANDARD,
    headers: dict | None = None,
    timeout: int | None = None,
    active: bool = True,
    description: str = "",
    metadata: dict | None = None,
    secret: str | None = None,
    user=None,
) -> Channel:
    """A new channel; a postback channel gets its signing secret when saved (``Channel.save``).

    ``secret``: the integrator's own ``whsec_`` secret (postback channels), instead of a generated one.
    """
    require_permission(user, CREATE_PERMISSION, "You do not have permission to create channels.")
    if secret is not None:
        _check_custom_secret(secret, kind=kind)
    channel = Channel(
        name=name,
        description=description,
        metadata={} if metadata is None else metadata,
        secret=secret or "",
        kind=kind,
        url=url,
        email_to=email_to,
        format=format,
        headers={} if headers is None else headers,
        active=active,
    )
    if timeout is not None:
        channel.timeout = timeout
    channel.full_clean(exclude=["secret"])  # not made yet (unless given): save() makes it
    channel.save()
    own = "; its own signing secret" if secret else ""
    record(user=user, obj=channel, action=ADDITION, message=f"Created ({_summary(channel)}{own}).")
    return channel


def _check_custom_secret(secret, *, kind: str) -> None:
    if kind != ChannelKind.POSTBACK:
        raise ValidationError({"secret": "Only postback channels have a signing secret."})
    validate_custom_secret(secret)


def _summary(channel: Channel) -> str:
    """What a channel is, for the audit trail: kind, target, header names (never their values)."""
    parts = [channel.kind]
    if channel.format != PayloadFormat.STANDARD:
        parts.append(f"format {channel.format}")
    if channel.url:
        parts.append(f"url {mask_query_strings(channel.url)}")
    if channel.email_to:
        parts.append(f"to {channel.email_to}")
    if channel.headers:
        parts.append(f"headers {', '.join(sorted(channel.headers))}")
    return "; ".join(parts)


def update_channel(*, channel: Channel, changes: Mapping[str, Any], user=None) -> Channel:
    """Change the given fields of ``channel`` (any of ``CHANNEL_FIELDS`` but ``kind``, fixed once created)."""
    require_permission(user, CHANGE_PERMISSION, "You do not have permission to change channels.")
    unknown = set(changes) - set(CHANNEL_FIELDS)
    if unknown:
        raise ValueError(f"Not a field a channel's change may set: {', '.join(sorted(unknown))}")
    if "kind" in changes and changes["kind"] != channel.kind:
        raise ValidationError({"kind": ["The kind of a channel cannot be changed; create a new channel."]})
    # As stored, not as the caller's instance says: the admin's form has already set its values on it.
    stored = Channel.objects.only(*changes.keys()).get(pk=channel.pk) if changes else channel
    before = {field: getattr(stored, field) for field in changes}
    changes = dict(changes)
    if "headers" in changes:
        # Masked values sent back as they were shown keep the stored credentials (channels.masking).
        changes["headers"] = keep_masked_values(changes["headers"], before["headers"])
    for field, value in changes.items():
        setattr(channel, field, value)
    channel.full_clean()
    # Only the fields sent: a concurrent rotation's secret columns are left alone.
    channel.save(update_fields=[*changes.keys(), "updated_at"])
    after = {field: getattr(channel, field) for field in changes}
    if after != before:
        record(user=user, obj=channel, message=describe_changes(before, after, secret_mappings=["headers"]))
    return channel


def delete_refusal(*, channel: Channel) -> str | None:
    """Why ``channel`` may not be deleted (it has deliveries: deleting would erase its log), or None."""
    # Through the reverse relation the deliveries app defines; no import of it needed here.
    return CHANNEL_IN_USE if channel.deliveries.exists() else None


def delete_channel(*, channel: Channel, user=None) -> None:
    """Delete a channel that has no deliveries, with its subscriptions; raise ``ChannelInUse`` otherwise."""
    require_permission(user, DELETE_PERMISSION, "You do not have permission to delete channels.")
    refusal = delete_refusal(channel=channel)
    if refusal:
        raise ChannelInUse(refusal)
    record(user=user, obj=channel, action=DELETION, message=f"Deleted ({_summary(channel)}).")
    channel.delete()


@transaction.atomic
def rotate_secret(
    *, channel: Channel, grace: timedelta = SECRET_ROTATION_GRACE, secret: str | None = None, user=None
) -> str:
    """Give the channel a new secret (``secret``, or a generated one); the old one keeps signing for ``grace``.

    Every secret replaced earlier keeps its own overlap: the one in ``previous_secret`` moves to
    ``older_secrets`` with its expiry (``channels.secrets``). Refused while ``MAX_SIGNING_SECRETS``
    would sign at once.
    """
    ROTATE.require(user)
    if channel.kind != ChannelKind.POSTBACK:
        raise ValidationError({"kind": "Only postback channels have a signing secret."})
    if secret is not None:
        _check_custom_secret(secret, kind=channel.kind)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    now = timezone.now()
    still_signing = earlier_secrets(channel, now=now)
    if secret is not None and secret in (channel.secret, *(value for value, _ in still_signing)):
        raise ValidationError({"secret": "This secret signs this channel's postbacks already; choose a new one."})
    if len(still_signing) + 2 > MAX_SIGNING_SECRETS:
        until = min(expires_at for _, expires_at in still_signing)
        raise ValidationError(
            {
                "secret": f"{len(still_signing) + 1} secrets sign this channel's postbacks already, the most "
                f"allowed at once is {MAX_SIGNING_SECRETS}; rotate again after {until:%Y-%m-%d %H:%M} UTC."
            }
        )
    # The previous secret (if still in its overlap) and the older ones move down, each with its own expiry.
    channel.older_secrets = [
        {"secret": value, "expires_at": expires_at.isoformat()} for value, expires_at in still_signing
    ]
    channel.previous_secret = channel.secret
    channel.previous_secret_expires_at = now + grace
    channel.secret = secret or generate_secret()
    channel.secret_rotated_at = now
    channel.save(
        update_fields=[
            "secret",
            "previous_secret",
            "previous_secret_expires_at",
            "older_secrets",
            "secret_rotated_at",
            "updated_at",
        ]
    )
    also = f" (and {len(channel.older_secrets)} older one(s) until their own expiry)" if channel.older_secrets else ""
    record(
        user=user,
        obj=channel,
        message=f"Rotated the signing secret; the previous one also signs until "
        f"{channel.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC{also}.",
    )
    return channel.secret


def reveal_secret(*, channel: Channel, user=None) -> str:
    """The channel's signing secret, for a user allowed to see it; the audit trail records who looked."""
    REVEAL.require(user)
    if channel.kind != ChannelKind.POSTBACK:
        raise ValidationError({"kind": "Only postback channels have a signing secret."})
    record(user=user, obj=channel, message="Revealed the signing secret.")
    return channel.secret


# --- Subscriptions (a channel attached to an event type) ------------------------------


@transaction.atomic
def attach_channel(
    *, event_type: EventType, channel: Channel, sources: list[str], active: bool = True, user=None
) -> Subscription:
    """Attach ``channel`` to ``event_type`` for ``sources`` (validated; raises ValidationError by field)."""
    require_permission(user, ATTACH_PERMISSION, "You do not have permission to attach channels.")
    subscription = Subscription(event_type=event_type, channel=channel, active=active)
    subscription.sources = validate_sources(sources)
    subscription.full_clean()
    subscription.save()
    record(
        user=user,
        obj=subscription,
        action=ADDITION,
        message=f"Attached channel {channel} to {event_type.key} for {', '.join(subscription.sources)}"
        + ("" if active else " (inactive)")
        + ".",
    )
    return subscription


@transaction.atomic
def update_subscription(
    *, subscription: Subscription, sources: list[str] | None = None, active: bool | None = None, user=None
) -> Subscription:
    """Change a subscription's sources or active flag (its event type and channel are fixed)."""
    require_permission(user, EDIT_ATTACHMENT_PERMISSION, "You do not have permission to change attachments.")
    # As stored: the admin's form has already set its values on the instance it passes.
    stored = Subscription.objects.get(pk=subscription.pk)
    before = {"sources": stored.sources, "active": stored.active}
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
    after = {"sources": subscription.sources, "active": subscription.active}
    if after != before:
        record(user=user, obj=subscription, message=describe_changes(before, after))
    return subscription


def detach_channel(*, subscription: Subscription, user=None) -> None:
    """Delete a subscription: its channel gets no more events of its type (deliveries keep their log)."""
    require_permission(user, DETACH_PERMISSION, "You do not have permission to detach channels.")
    record(
        user=user,
        obj=subscription,
        action=DELETION,
        message=f"Detached channel {subscription.channel} from {subscription.event_type_id}.",
    )
    subscription.delete()
