"""The catalogue's native names (SPEC section 12) against the seed files, as the seeds spell them."""

import pytest

from events.catalogue import KEYS
from events.catalogue.names import FAKTURIA, FLAT, NITROBOX, formats_of, key_for, native_name
from events.models import EventType
from tests.support.seed_receivers import fakturia_event_types, flat_event_types, nitrobox_identifiers

pytestmark = pytest.mark.django_db


def test_every_fakturia_name_of_seed_001_is_in_the_catalogue_as_spelled():
    seed_names = list(fakturia_event_types())
    assert len(seed_names) == 21 and "TESTHOOK" in seed_names  # 20 event types and the test call
    assert sorted(FAKTURIA.values()) == sorted(seed_names)
    assert FAKTURIA["test"] == "TESTHOOK" and FAKTURIA["customer.created"] == "CUSTOMER_CREATED"


def test_every_nitrobox_identifier_of_seed_000_is_in_the_catalogue_as_spelled():
    seed_names = nitrobox_identifiers()
    assert len(seed_names) == 18
    assert {"paymentintent.result", "invoice.archived", "paymentAssignment.processed", "contract.cancelled"} <= set(
        seed_names
    )
    assert sorted(NITROBOX.values()) == sorted(seed_names)


def test_both_flat_names_of_seed_002_are_in_the_catalogue_as_spelled():
    assert sorted(FLAT.values()) == sorted(flat_event_types()) == ["DOCUMENT_STATUS_CHANGED", "INVOICE_STATUS_CHANGED"]


def test_every_native_name_stands_for_one_stored_catalogue_type():
    stored = set(EventType.objects.values_list("key", flat=True))
    for table in (FAKTURIA, NITROBOX, FLAT):
        for key, name in table.items():
            assert key in KEYS and key in stored
            assert key_for(name) == key


def test_the_fakturia_example_payloads_carry_the_attributes_seed_001_lists():
    attributes = fakturia_event_types()
    for key, name in FAKTURIA.items():
        payload = EventType.objects.get(pk=key).example_payload
        assert set(attributes[name]) <= set(payload), (name, attributes[name], sorted(payload))


def test_the_formats_of_a_type_are_the_ones_that_name_it():
    assert formats_of("customer.created") == ["standard", "fakturia", "nitrobox"]
    assert formats_of("order.completed") == ["standard"]
    assert native_name("contract.canceled", "nitrobox") == "contract.cancelled"
    assert native_name("order.completed", "fakturia") is None
    # The test event reaches every channel; where its seed does not name it, it keeps its key.
    assert [native_name("test", f) for f in ("standard", "fakturia", "nitrobox", "flat")] == [
        "test",
        "TESTHOOK",
        "test",
        "test",
    ]
