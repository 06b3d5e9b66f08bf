"""Writes on the events app: the catalogue's on/off switch, and ``emit`` for platform code.

``emit`` (SPEC section 3) writes deliveries too, so it lives one layer up, in
``deliveries.fanout``; it is re-exported here because ``events.services.emit`` is the
name the spec gives platform code. That one import runs upward, on purpose, and is the
single exception the import contract in ``pyproject.toml`` names.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from common.audit import record
from common.permissions import Action
from deliveries.fanout import emit
from events.models import Availability, EventType

__all__ = ["emit", "set_event_type_critical", "set_event_type_enabled"]

TOGGLE_PERMISSION = "events.change_eventtype"
ENABLE_ON_DEMAND_PERMISSION = "events.enable_on_demand"
# Django's change permission includes viewing, in the admin as in the API.
TOGGLE = Action("toggle", (TOGGLE_PERMISSION,), "You do not have permission to switch event types on or off.")
ENABLE_ON_DEMAND = Action(
    "enable on-demand", (TOGGLE_PERMISSION, ENABLE_ON_DEMAND_PERMISSION), "You may not switch on-demand event types on."
)


def set_event_type_enabled(*, event_type: EventType, enabled: bool, user=None) -> EventType:
    """Switch an event type on or off. On-demand types need the ``enable_on_demand`` permission to go on."""
    TOGGLE.require(user)
    if enabled and event_type.availability == Availability.ON_DEMAND and not ENABLE_ON_DEMAND.allows(user):
        raise PermissionDenied(
            gettext("%(key)s is available on demand; you may not switch it on.") % {"key": event_type.key}
        )
    if event_type.enabled != enabled:
        event_type.enabled = enabled
        event_type.save(update_fields=["enabled"])
        record(user=user, obj=event_type, message=f"Switched {'on' if enabled else 'off'}.")
    return event_type


def set_event_type_critical(*, event_type: EventType, critical: bool, user=None) -> EventType:
    """Mark a type critical or not: an undelivered critical delivery raises an alert (SPEC section 10)."""
    TOGGLE.require(user)
    if event_type.critical != critical:
        event_type.critical = critical
        event_type.save(update_fields=["critical"])
        record(user=user, obj=event_type, message=f"Marked {'critical' if critical else 'not critical'}.")
    return event_type
