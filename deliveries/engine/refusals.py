"""When a delivery may not be sent, in one place: re-checked after every claim, and asked before a manual retry.

The messages are safe to show to staff and integrators; the admin and the API show them as they are.
"""

from __future__ import annotations

from deliveries.models import Delivery, DeliveryStatus, ErrorKind, Trigger

RETRY_PERMISSION = "deliveries.retry_delivery"
TEST_SEND_NOT_RETRIED = (
    "This is a test send: test sends are not retried or resent. Send a new test event from the channel instead."
)


def _inactive_channel(delivery: Delivery) -> str | None:
    if delivery.channel.active:
        return None
    return f"The channel {delivery.channel.name!r} is inactive"


def refusal_before_send(delivery: Delivery, trigger: str) -> tuple[str, str] | None:
    """``(ErrorKind, reason)`` when a claimed delivery must fail unsent, else None.

    Re-checked after the claim: the staff may have switched things off since the event was emitted.
    """
    inactive = _inactive_channel(delivery)
    if inactive:
        return ErrorKind.CHANNEL_INACTIVE, f"{inactive}."
    if trigger in (Trigger.MANUAL, Trigger.RESEND):
        return None  # a person asked for it
    if delivery.subscription is None or not delivery.subscription.active:
        return ErrorKind.SUBSCRIPTION_INACTIVE, "The subscription was removed or deactivated before sending."
    if not delivery.event_type.enabled:
        return ErrorKind.TYPE_DISABLED, f"The event type {delivery.event_type_id} was disabled before sending."
    return None


def retry_refusal_reason(*, delivery: Delivery, user) -> str | None:
    """None when ``user`` may retry ``delivery`` by hand now, else why not (safe to show)."""
    if user is None or not user.has_perm(RETRY_PERMISSION):
        return "You do not have permission to retry deliveries."
    if delivery.is_test:
        return TEST_SEND_NOT_RETRIED
    if delivery.status != DeliveryStatus.FAILED:
        return f"Only failed deliveries can be retried; this one is {delivery.get_status_display().lower()}."
    event_type = delivery.event_type
    if not event_type.manual_retry:
        return (
            f"Deliveries of {event_type.key} cannot be retried by hand; manual retry is only available "
            "for event types that allow it (by default order.completed, transaction.approved, "
            "transaction.declined and refund.applied)."
        )
    inactive = _inactive_channel(delivery)
    if inactive:
        return f"{inactive}; activate it before retrying."
    return None
