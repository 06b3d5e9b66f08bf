"""The event catalogue (SPEC appendix A), loaded into ``EventType`` by a data migration.

Seed 004's ten system events, the ``test`` event (seed 001's TESTHOOK), and the billing
events of seeds 000-003 keyed in the same dotted style. Where two seeds name the same
event (``customer.created``, ``contract.created``, ``invoice.created`` ...) it appears once.
The entries are in ``system``, ``commerce`` and ``billing``; their order is the catalogue's.
"""

from events.catalogue.billing import BILLING
from events.catalogue.commerce import COMMERCE
from events.catalogue.system import SYSTEM

# The catalogue's test event (seed 001's TESTHOOK): what "Send test event" sends.
TEST_EVENT_TYPE = "test"

CATALOGUE = [*SYSTEM, *COMMERCE, *BILLING]

KEYS = [entry["key"] for entry in CATALOGUE]
assert len(KEYS) == len(set(KEYS)), "duplicate key in the catalogue"


def load_catalogue(event_type_model) -> int:
    """Create missing event types and refresh the descriptive fields of existing ones.

    The staff toggle (``enabled``) of an existing type is never touched. Takes the model
    class as an argument so that data migrations can pass their historical model.
    Returns the number of types created.
    """
    created = 0
    for position, entry in enumerate(CATALOGUE):
        fields = {k: v for k, v in entry.items() if k != "key"}
        _, was_created = event_type_model.objects.update_or_create(
            key=entry["key"], defaults={**fields, "position": position}
        )
        created += was_created
    return created
