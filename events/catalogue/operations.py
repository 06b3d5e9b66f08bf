"""The platform's own events (SPEC section 10), category "System": about channels and deliveries.

Emitted by ``deliveries.alerting``; staff attach channels to them in System notifications like any
other type (typically a Slack channel for the ops team). An event about a channel is never
delivered through that channel, and the delivery of one of these never causes another.
"""

from django.utils.translation import gettext_noop

from events.catalogue.examples import entry

CATEGORY = "System"
CHANNEL_DISABLED = "postbacks.channel.disabled"
CHANNEL_RECOVERED = "postbacks.channel.recovered"
DELIVERY_EXHAUSTED = "postbacks.delivery.exhausted"
ALERT_UNDELIVERED = "postbacks.alert.undelivered"
KEYS = (CHANNEL_DISABLED, CHANNEL_RECOVERED, DELIVERY_EXHAUSTED, ALERT_UNDELIVERED)

_CHANNEL = {"id": 12, "name": "Shop ERP", "kind": "postback", "url": "https://erp.example.net/postbacks"}
_CHANNEL_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "kind"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "kind": {"type": "string"},
        "url": {"type": "string"},
    },
}


def _schema(required: dict) -> dict:
    return {"type": "object", "required": list(required), "properties": required}


OPERATIONS = [
    entry(
        CHANNEL_DISABLED,
        gettext_noop("Channel disabled"),
        CATEGORY,
        gettext_noop(
            "A channel was switched off automatically because every attempt to it failed for the configured number "
            "of hours (WEBHOOKS_DISABLE_AFTER_HOURS, at least 20 attempts). Never sent to that channel."
        ),
        {
            "channel": _CHANNEL,
            "disabledAt": "2026-11-23T10:15:00Z",
            "reason": "All 412 attempts failed since 2026-11-18T10:02:11Z (120 h); last: HTTP 503.",
        },
        schema=_schema({"channel": _CHANNEL_SCHEMA, "disabledAt": {"type": "string"}, "reason": {"type": "string"}}),
    ),
    entry(
        CHANNEL_RECOVERED,
        gettext_noop("Channel re-enabled"),
        CATEGORY,
        gettext_noop(
            "A channel that was switched off automatically was switched on again. Never sent to that channel."
        ),
        {
            "channel": _CHANNEL,
            "disabledAt": "2026-11-23T10:15:00Z",
            "reenabledAt": "2026-11-23T11:40:00Z",
            "reenabledBy": "ops@example.net",
        },
        schema=_schema(
            {"channel": _CHANNEL_SCHEMA, "disabledAt": {"type": "string"}, "reenabledAt": {"type": "string"}}
        ),
    ),
    entry(
        DELIVERY_EXHAUSTED,
        gettext_noop("Delivery failed after all retries"),
        CATEGORY,
        gettext_noop(
            "A delivery failed and all its automatic retries are spent; it stays failed until someone resends it. "
            "Never sent to the channel it failed on."
        ),
        {
            "delivery": {
                "id": 9001,
                "attempts": 4,
                "failureReason": "HTTP 503, still failing after 3 automatic retries.",
            },
            "event": {"id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "type": "order.completed"},
            "channel": _CHANNEL,
        },
        schema=_schema(
            {
                "delivery": {"type": "object", "required": ["id"]},
                "event": {"type": "object", "required": ["id", "type"]},
                "channel": _CHANNEL_SCHEMA,
            }
        ),
    ),
    entry(
        ALERT_UNDELIVERED,
        gettext_noop("Critical event undelivered"),
        CATEGORY,
        gettext_noop(
            "A delivery of a critical event type had not succeeded WEBHOOKS_ALERT_AFTER_MIN minutes after its event "
            "(at most one alert per channel per hour). Never sent to that channel."
        ),
        {
            "alert": {"id": 3, "raisedAt": "2026-11-23T10:30:00Z", "undelivered": 2},
            "channel": _CHANNEL,
            "deliveries": [{"id": 9001, "eventType": "order.completed", "status": "failed"}],
        },
        schema=_schema(
            {
                "alert": {"type": "object", "required": ["id"]},
                "channel": _CHANNEL_SCHEMA,
                "deliveries": {"type": "array"},
            }
        ),
    ),
]
