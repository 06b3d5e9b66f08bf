import pytest

from events.catalogue import CATALOGUE
from events.models import Availability, EventType

SEED_004_KEYS = [
    "order.completed",
    "contact.created",
    "shipping.tracking_updated",
    "product.conflict",
    "transaction.declined",
    "refund.applied",
    "subscription.canceled",
    "customer.created",
    "transaction.approved",
    "survey.completed",
]

pytestmark = pytest.mark.django_db


def test_every_seed_004_system_event_is_in_the_catalogue():
    keys = set(EventType.objects.values_list("key", flat=True))
    assert set(SEED_004_KEYS) <= keys
    assert "test" in keys


def test_catalogue_has_the_billing_events_in_their_categories():
    assert EventType.objects.count() == len(CATALOGUE) >= 40
    categories = set(EventType.objects.values_list("category", flat=True))
    for category in [
        "Invoices",
        "Documents",
        "Payments",
        "Contracts",
        "Customers",
        "Addresses",
        "Items",
        "Dunning",
        "Proformas",
    ]:
        assert category in categories, category
    assert EventType.objects.get(key="dunning.created").category == "Dunning"
    assert EventType.objects.get(key="invoice.status_changed").category == "Invoices"


def test_manual_retry_is_allowed_only_for_the_four_seed_004_types():
    manual = set(EventType.objects.filter(manual_retry=True).values_list("key", flat=True))
    assert manual == {"order.completed", "transaction.approved", "transaction.declined", "refund.applied"}


def test_customer_created_and_survey_completed_are_postback_only():
    postback_only = set(EventType.objects.filter(postback_only=True).values_list("key", flat=True))
    assert postback_only == {"customer.created", "survey.completed"}


def test_seed_000_upcoming_events_are_on_demand_and_system_events_are_standard():
    on_demand = set(EventType.objects.filter(availability=Availability.ON_DEMAND).values_list("key", flat=True))
    assert "payment_intent.result" in on_demand
    assert on_demand.isdisjoint(SEED_004_KEYS)


def test_fresh_install_has_every_type_disabled_and_each_has_an_example_payload():
    assert not EventType.objects.filter(enabled=True).exists()
    for et in EventType.objects.all():
        assert isinstance(et.example_payload, dict) and et.example_payload, et.key
        assert et.name and et.category and et.description, et.key


def test_example_payloads_satisfy_their_own_schemas():
    jsonschema = pytest.importorskip("jsonschema")
    with_schema = EventType.objects.filter(payload_schema__isnull=False)
    assert with_schema.exists()  # otherwise this would check nothing
    for et in with_schema:
        jsonschema.validate(et.example_payload, et.payload_schema)


def test_reloading_the_catalogue_keeps_the_staff_toggle():
    from events.catalogue import load_catalogue

    EventType.objects.filter(key="order.completed").update(enabled=True, name="Renamed")
    assert load_catalogue(EventType) == 0
    et = EventType.objects.get(key="order.completed")
    assert et.enabled is True
    assert et.name == "Order completed"
