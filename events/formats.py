"""The payload formats of a postback channel (SPEC section 12): whose receivers a channel's bodies are for.

The events app holds them because the catalogue names each type per format (``events.catalogue.names``);
channels store one per postback channel and the engine builds the body in it
(``deliveries.engine.envelope``).
"""

from django.db import models
from django.utils.translation import gettext_noop


class PayloadFormat(models.TextChoices):
    STANDARD = "standard", "Standard"
    FAKTURIA = "fakturia", "Fakturia"
    NITROBOX = "nitrobox", "Nitrobox"
    FLAT = "flat", "Flat (document status)"


# One line per format, for the admin's select and the API's field description (the API keeps English;
# the staff pages show them through gettext).
EXPLANATIONS = {
    PayloadFormat.STANDARD: gettext_noop(
        "This service's envelope (eventId, eventType, occurredAt, source, payload ...), "
        "types named by catalogue key (order.completed)."
    ),
    PayloadFormat.FAKTURIA: gettext_noop(
        "Fakturia's webhook body (eventType, triggerDate in local time, triggerUser, "
        "webhookConfig, retryCount, payload), types named as Fakturia does (CUSTOMER_CREATED, TESTHOOK)."
    ),
    PayloadFormat.NITROBOX: gettext_noop(
        "The standard envelope with types named by Nitrobox's technical identifiers "
        "(paymentAssignment.processed, contract.cancelled)."
    ),
    PayloadFormat.FLAT: gettext_noop(
        "eventId, eventType and occurredAt with the payload's fields beside them at the top "
        "level, types named DOCUMENT_STATUS_CHANGED and INVOICE_STATUS_CHANGED."
    ),
}

# The body fields a flat payload may not use: they would overwrite the envelope's own.
FLAT_RESERVED_KEYS = ("eventId", "eventType", "occurredAt")


def describe_formats() -> str:
    """Every format with its one-line explanation, for help texts."""
    return " ".join(f"{value}: {EXPLANATIONS[value]}" for value in PayloadFormat.values)
