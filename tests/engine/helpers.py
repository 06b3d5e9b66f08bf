from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Delivery
from events.services import emit


def deliver_now(**run) -> Delivery | None:
    """Run one dispatcher pass in this process, as a qcluster job would."""
    return Dispatcher(**run).run(budget_s=30)


def emit_and_deliver(key="contact.created", *, source="shop", payload=None, **kwargs):
    event = emit(key, source=source, payload=payload if payload is not None else {"contact": {"id": 7}}, **kwargs)
    deliver_now()
    return event
