"""The event catalogue (SPEC appendix A), loaded into ``EventType`` by a data migration.

Seed 004's ten system events, the ``test`` event (seed 001's TESTHOOK), and the billing
events of seeds 000-003 keyed in the same dotted style. Where two seeds name the same
event (``customer.created``, ``contract.created``, ``invoice.created`` ...) it appears once.
The entries are in ``system``, ``commerce``, ``billing`` and ``operations`` (the platform's own
events about its deliveries, category "System"); their order is the catalogue's.
"""

from events.catalogue.billing import BILLING
from events.catalogue.commerce import COMMERCE
from events.catalogue.examples import documented_schema
from events.catalogue.operations import OPERATIONS
from events.catalogue.system import SYSTEM

# The catalogue's test event (seed 001's TESTHOOK): what "Send test event" sends.
TEST_EVENT_TYPE = "test"

# Fields staff may change: set when a type is created, never refreshed from the catalogue.
STAFF_SETTINGS = ("enabled", "critical")

CATALOGUE = [*SYSTEM, *COMMERCE, *BILLING, *OPERATIONS]

# Seed 002's two document notifications (the flat format's): their payloads documented from the examples.
for _entry in CATALOGUE:
    if _entry["key"] in ("document.status_changed", "invoice.status_changed"):
        _entry["payload_schema"] = _entry["payload_schema"] or documented_schema(_entry["example_payload"])

KEYS = [entry["key"] for entry in CATALOGUE]
assert len(KEYS) == len(set(KEYS)), "duplicate key in the catalogue"


def load_catalogue(event_type_model) -> int:
    """Create missing event types and refresh the descriptive fields of existing ones.

    The staff's settings of an existing type (``enabled``, ``critical``) are never touched. Takes the model
    class as an argument so that data migrations can pass their historical model.
    Returns the number of types created.
    """
    created = 0
    known = {f.name for f in event_type_model._meta.get_fields()}
    for position, entry in enumerate(CATALOGUE):
        # An earlier data migration's historical model may not have every field yet.
        entry = {k: v for k, v in entry.items() if k in known}
        fields = {k: v for k, v in entry.items() if k not in ("key", *STAFF_SETTINGS)}
        staff_defaults = {k: entry[k] for k in STAFF_SETTINGS if k in entry}
        _, was_created = event_type_model.objects.update_or_create(
            key=entry["key"],
            defaults={**fields, "position": position},
            create_defaults={**fields, **staff_defaults, "position": position},
        )
        created += was_created
    return created


# Every native name belongs to a catalogue type, and none is another type's key.
from events.catalogue.names import KEY_BY_NATIVE_NAME  # noqa: E402

for _name, _key in KEY_BY_NATIVE_NAME.items():
    assert _key in KEYS, f"native name {_name} names {_key}, which is not in the catalogue"
    assert _name not in KEYS or _name == _key, f"native name {_name} is the key of another type"
