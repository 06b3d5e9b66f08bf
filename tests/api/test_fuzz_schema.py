"""Schemathesis against /api/schema/: no 5xx and no answer that breaks the schema, for any input.

Runs in-process against the WSGI application, authenticated as a user with every API
permission, over a database seeded so that small ids hit real objects. Bounded by
``MAX_EXAMPLES`` per operation so the whole run stays well under two minutes.

Channels the fuzzer creates or edits are pointed at a receiver on 127.0.0.1 before the
request is sent, and any outgoing connection to another address is refused locally, so
a test send can never leave the machine.
"""

from __future__ import annotations

import ipaddress
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels.models import Channel, ChannelKind, Subscription
from deliveries.models import Attempt, ChannelBreaker, Delivery, DeliveryStatus, Trigger
from events.models import Event, EventType
from tests.security.fake_dns import ConnectLog

pytestmark = pytest.mark.django_db

# API_FUZZ_EXAMPLES=500 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Loaded when the module is collected (one test per operation); serving the schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# The token is sent by the test itself; generated Authorization headers would only test 401s.
schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    # The WSGI handler closes "old" connections at each request, which would end the
    # test's transaction; Django's own test client switches that off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def local_receiver(receiver):
    return receiver.url("/fuzz")


@pytest.fixture
def seeded(postback_channel, local_receiver, admin_api):
    """A few of everything with small ids, so generated path ids sometimes exist."""
    admin_user = admin_api.user
    email = Channel.objects.create(name="mail", kind=ChannelKind.EMAIL, email_to="ops@example.com")
    Channel.objects.create(name="slack", kind=ChannelKind.SLACK, url=local_receiver)
    for key in ("order.completed", "contact.created"):
        event_type = EventType.objects.get(key=key)
        event_type.enabled = True
        event_type.save(update_fields=["enabled"])
        subscription = Subscription.objects.create(event_type=event_type, channel=postback_channel)
        Subscription.objects.create(event_type=event_type, channel=email, source_admin=False)
        for status in (DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED):
            event = Event.objects.create(
                type=event_type, source="shop", occurred_at=timezone.now(), payload={"order": {"id": "A-1"}}
            )
            delivery = Delivery.objects.create(
                event=event,
                subscription=subscription,
                channel=postback_channel,
                event_type=event_type,
                source="shop",
                status=status,
                attempt_count=1,
            )
            Attempt.objects.create(delivery=delivery, number=1, started_at=timezone.now(), response_status=500)
            # v1.1's attempts lists and stats: finished attempts with headers and a body, one in flight.
            started = timezone.now()
            Attempt.objects.create(
                delivery=delivery,
                number=2,
                trigger=Trigger.MANUAL,
                triggered_by=admin_user,
                started_at=started,
                finished_at=started,
                duration_ms=42,
                request_url=postback_channel.url,
                request_headers={"Content-Type": "application/json", "webhook-signature": "v1,abc", "X-Key": "***"},
                response_status=200 if status == DeliveryStatus.SUCCEEDED else 503,
                response_headers={"Content-Type": "text/plain", "X-Long": "x" * 3000},
                response_body="ok" * 3000,
                error="" if status == DeliveryStatus.SUCCEEDED else "http_status",
            )
            Attempt.objects.create(delivery=delivery, number=3, trigger=Trigger.TEST, started_at=started)
    ChannelBreaker.objects.create(channel=email, state="open", consecutive_failures=3, open_until=timezone.now())
    postback_channel.description = "fuzzed"
    postback_channel.metadata = {"tenant": "acme", "n": 1}
    postback_channel.save(update_fields=["description", "metadata"])


@pytest.fixture
def connections(monkeypatch):
    return ConnectLog().install(monkeypatch)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=MAX_EXAMPLES)
def test_no_input_makes_the_api_fail_or_break_its_schema(case, admin_api, seeded, local_receiver, connections):
    if case.path.startswith("/api/v1/channels") and isinstance(case.body, dict) and "url" in case.body:
        case.body["url"] = local_receiver

    response = case.call(headers={"Authorization": f"Token {admin_api.token}"})

    case.validate_response(response, checks=CHECKS)
    for address in connections.addresses:
        host = address[0] if isinstance(address, tuple) else address
        assert "/" in str(host) or ipaddress.ip_address(host).is_loopback, address
    assert not Channel.objects.exclude(url="").exclude(url__startswith="http://127.0.0.1:").exists()
