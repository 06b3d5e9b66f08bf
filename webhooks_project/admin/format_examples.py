"""The channel form's payload format help: each format's one-line explanation and example bodies.

The example bodies are built by the engine's own body builder (``deliveries.engine.envelope``)
from the catalogue's example payloads, one per type the format names, so the page shows what the
receiver will get. ``staff.js`` swaps them as staff change the format or the type; without
JavaScript the page shows the current format's first example.
"""

from django.utils.translation import gettext

from deliveries.engine.envelope import example_body
from events.catalogue.names import native_name
from events.formats import EXPLANATIONS, PayloadFormat
from events.models import EventType


def format_examples(*, current: str = PayloadFormat.STANDARD) -> dict:
    """``{"current": ..., "formats": {format: {"label", "explanation", "types": [[key, name, body], ...]}}}``."""
    event_types = list(EventType.objects.order_by("position", "key").values_list("key", "example_payload"))
    formats = {}
    for value, label in PayloadFormat.choices:
        types = []
        for key, payload in event_types:
            name = native_name(key, value)
            if name is None:
                continue
            body = example_body(event_type_key=key, payload=payload or {}, native_type=name, payload_format=value)
            types.append([key, name if name == key else f"{name} ({key})", body])
        formats[value] = {"label": label, "explanation": gettext(EXPLANATIONS[value]), "types": types}
    current = current if current in formats else PayloadFormat.STANDARD
    return {"current": current, "formats": formats}
