from django.core.exceptions import ValidationError


class PayloadTooLarge(ValidationError):
    """The payload is over ``WEBHOOKS_MAX_PAYLOAD_BYTES`` (HTTP 413 on the API)."""


class EventConflict(Exception):
    """An event id was emitted again with other content (HTTP 409 on the API); ``differs`` names the fields."""

    def __init__(self, event_id, differs=("type", "payload")):
        self.event_id = event_id
        self.differs = list(differs)
        super().__init__(f"Event {event_id} already exists with a different {', '.join(self.differs)}.")
