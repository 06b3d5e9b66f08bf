import pytest


@pytest.fixture
def event_type(db):
    """An enabled standard event type from the catalogue, with no schema."""
    from events.models import EventType

    et = EventType.objects.get(key="contact.created")
    et.enabled = True
    et.save(update_fields=["enabled"])
    return et
