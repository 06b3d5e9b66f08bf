from django.core.exceptions import ValidationError


class PayloadTooLarge(ValidationError):
    """The payload is over ``WEBHOOKS_MAX_PAYLOAD_BYTES`` (HTTP 413 on the API)."""


class EventConflict(Exception):
    """An event id was emitted again with another type or payload (HTTP 409 on the API)."""

    def __init__(self, event_id):
        self.event_id = event_id
        super().__init__(f"Event {event_id} already exists with a different type or payload.")
