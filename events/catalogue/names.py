"""Each event type's native name in the formats of the seed systems (SPEC section 12), spelled as the seed does.

In the ``standard`` format every type is named by its catalogue key. The other formats name only
the types their seed lists; a type missing from a format's table cannot be attached to a channel
of that format. The test event goes to every channel, whatever its format: where the seed names
no test event, it keeps its key (``test``).

Ingest (``emit`` and ``POST events/``) accepts these names too and stores the catalogue key:
``CUSTOMER_CREATED`` is ``customer.created``.
"""

from events.formats import PayloadFormat

# Seed 001 (Fakturia): its 20 upper-case event types and TESTHOOK.
FAKTURIA = {
    "customer.created": "CUSTOMER_CREATED",
    "customer.updated": "CUSTOMER_CHANGED",
    "customer.deleted": "CUSTOMER_DELETED",
    "customer.change_requested": "CUSTOMER_CHANGEREQUEST_CREATED",
    "item.created": "ITEM_CREATED",
    "item.updated": "ITEM_CHANGED",
    "item.deleted": "ITEM_DELETED",
    "contract.created": "CONTRACT_CREATED",
    "contract.activated": "CONTRACT_ACTIVATED",
    "contract.updated": "CONTRACT_CHANGED",
    "contract.terminated": "CONTRACT_TERMINATED",
    "contract.ended": "CONTRACT_ENDED",
    "invoice.created": "INVOICE_CREATED",
    "invoice.payment_received": "INVOICE_PAYMENT_RECEIVED",
    "invoice.correction_created": "INVOICECORRECTION_CREATED",
    "dunning.created": "DUNNING_CREATED",
    "order.received": "ORDER_RECEIVED",
    "order.processed": "ORDER_PROCESSED",
    "order.canceled": "ORDER_CANCELLED",
    "order.psp_event": "ORDER_PSP_EVENT",
    "test": "TESTHOOK",
}

# Seed 000 (Nitrobox): its 18 technical identifiers.
NITROBOX = {
    "invoice.created": "invoice.created",
    "document.archived": "invoice.archived",
    "invoice.updated": "invoice.updated",
    "payment_intent.result": "paymentintent.result",
    "payment_assignment.processed": "paymentAssignment.processed",
    "payment_assignment.reversed": "paymentAssignment.reversed",
    "contract.created": "contract.created",
    "contract.updated": "contract.updated",
    "contract.terminated": "contract.terminated",
    "contract.canceled": "contract.cancelled",
    "contract.renewed": "contract.renewed",
    "customer.created": "customer.created",
    "customer.updated": "customer.updated",
    "address.created": "address.created",
    "address.updated": "address.updated",
    "order.created": "order.created",
    "order.updated": "order.updated",
    "order.canceled": "order.cancelled",
}

# Seed 002: its two event types, whose payload fields go at the top level of the body.
FLAT = {
    "document.status_changed": "DOCUMENT_STATUS_CHANGED",
    "invoice.status_changed": "INVOICE_STATUS_CHANGED",
}

NATIVE_NAMES: dict[str, dict[str, str]] = {
    PayloadFormat.FAKTURIA: FAKTURIA,
    PayloadFormat.NITROBOX: NITROBOX,
    PayloadFormat.FLAT: FLAT,
}

TEST_KEY = "test"


def native_name(key: str, payload_format: str) -> str | None:
    """What ``payload_format`` calls the type ``key``; None when that format has no name for it."""
    if payload_format == PayloadFormat.STANDARD:
        return key
    name = NATIVE_NAMES.get(payload_format, {}).get(key)
    if name is None and key == TEST_KEY:
        return key  # the test event reaches every channel; only seed 001 names it (TESTHOOK)
    return name


def formats_of(key: str) -> list[str]:
    """The formats that have a name for the type ``key`` (``standard`` always)."""
    return [f for f in PayloadFormat.values if f == PayloadFormat.STANDARD or key in NATIVE_NAMES.get(f, {})]


def names_of(key: str) -> dict[str, str]:
    """Format to native name, for the formats that name ``key`` other than by its key."""
    return {f: table[key] for f, table in NATIVE_NAMES.items() if key in table}


def _keys_by_name() -> dict[str, str]:
    by_name: dict[str, str] = {}
    for table in NATIVE_NAMES.values():
        for key, name in table.items():
            assert by_name.setdefault(name, key) == key, f"native name {name} names two types"
    return by_name


KEY_BY_NATIVE_NAME = _keys_by_name()


def key_for(name: str) -> str:
    """The catalogue key a native name stands for (a key, or a name no format uses, comes back as it is)."""
    return KEY_BY_NATIVE_NAME.get(name, name)
