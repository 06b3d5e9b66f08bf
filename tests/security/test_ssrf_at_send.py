"""SSRF when sending (SPEC section 6): the target is vetted again at send time and the vetted
address is the one connected to, so DNS rebinding does not get through.

DNS cannot be controlled here, so the resolver is faked for made-up names (the one mock);
the internal target is a real receiver on 127.0.0.1 that records any visit, and every
outgoing connect is logged (a non-loopback one is refused locally, so nothing leaves).
"""

import pytest

from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind
from deliveries.services import send_test_event
from events.services import emit
from tests.security.fake_dns import ConnectLog, fake_dns
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Receiver

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"


@pytest.fixture
def internal_service():
    """Something on an internal address an attacker would like to reach."""
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def no_private_targets(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


class Rebinding:
    """Public while the channel is saved; internal from the moment ``flip()`` is called."""

    def __init__(self):
        self.phase = "save"

    def flip(self):
        self.phase = "send"

    def answer(self):
        return [PUBLIC] if self.phase == "save" else ["127.0.0.1"]


@pytest.fixture
def rebinding_channel(monkeypatch, internal_service, no_private_targets):
    with fake_dns(monkeypatch) as dns:
        rebind = Rebinding()
        dns.set("hooks.rebind.test", rebind.answer)
        channel = postback_channel(f"http://hooks.rebind.test:{internal_service.port}/steal", name="rebinding")
        rebind.flip()
        yield channel, dns


def test_a_test_event_to_a_name_that_rebinds_to_an_internal_address_is_blocked_and_nothing_connects(
    rebinding_channel, internal_service, monkeypatch
):
    channel, dns = rebinding_channel
    connects = ConnectLog().install(monkeypatch)

    attempt = send_test_event(channel=channel)

    assert attempt.error == ErrorKind.BLOCKED_TARGET, (attempt.error, attempt.error_detail)
    assert "127.0.0.1" in attempt.error_detail
    assert internal_service.requests == []
    assert connects.addresses == []
    assert dns.lookups[-1] == ("hooks.rebind.test", ["127.0.0.1"])  # it was asked again at send time


def test_a_delivery_to_a_name_that_rebinds_is_failed_as_blocked_target_without_retries(
    rebinding_channel, internal_service, monkeypatch
):
    channel, _dns = rebinding_channel
    subscribe(channel, "contact.created")
    event = emit("contact.created", source="shop", payload={"contact": {"id": "C-1"}})
    connects = ConnectLog().install(monkeypatch)

    Dispatcher(threads=2).run(budget_s=10)

    delivery = Delivery.objects.get(event=event, channel=channel)
    assert delivery.status == DeliveryStatus.FAILED, (delivery.status, delivery.last_error, delivery.failure_reason)
    assert delivery.last_error == ErrorKind.BLOCKED_TARGET
    assert delivery.attempt_count == 1 and delivery.next_attempt_at is None
    assert Attempt.objects.get(delivery=delivery).error == ErrorKind.BLOCKED_TARGET
    assert internal_service.requests == []
    assert connects.addresses == []


def test_the_sender_connects_to_the_address_it_vetted_not_to_a_fresh_lookup(
    monkeypatch, internal_service, no_private_targets
):
    """A zero-TTL rebinding: the vetting lookup says public, any later lookup says internal."""
    with fake_dns(monkeypatch) as dns:
        answers = iter([[PUBLIC], [PUBLIC]])  # one lookup when saved, one when vetted at send
        dns.set("ttl0.rebind.test", lambda: next(answers, ["127.0.0.1"]))
        channel = postback_channel(f"http://ttl0.rebind.test:{internal_service.port}/steal", name="ttl0", timeout=2)
        connects = ConnectLog().install(monkeypatch)

        attempt = send_test_event(channel=channel)

    # It went for the vetted public address (refused locally by the test: nothing left the machine) ...
    assert [a[0] for a in connects.addresses] == [PUBLIC], connects.addresses
    assert attempt.error == ErrorKind.CONNECTION, (attempt.error, attempt.error_detail)
    # ... and never to the internal one the name pointed to a moment later.
    assert internal_service.requests == []
    assert len(dns.lookups) == 2, dns.lookups


def test_the_host_header_keeps_the_name_when_connecting_to_the_vetted_address(monkeypatch, settings):
    """The positive control: a public name that stays public is sent to, with its own Host header."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with Receiver() as receiver, fake_dns(monkeypatch) as dns:
        dns.set("stable.rebind.test", ["127.0.0.1"])
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback: allowed for this control
        channel = postback_channel(f"http://stable.rebind.test:{receiver.port}/hook", name="stable")
        attempt = send_test_event(channel=channel)
    assert attempt.response_status == 200, (attempt.error, attempt.error_detail)
    assert receiver.requests[0].headers["host"] == f"stable.rebind.test:{receiver.port}"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1:{port}/x",
        "http://2130706433:{port}/x",
        "http://[::ffff:127.0.0.1]:{port}/x",
        "http://0x7f000001:{port}/x",
        "http://localhost:{port}/x",
    ],
)
def test_a_channel_saved_while_private_targets_were_allowed_is_refused_at_send_once_they_are_not(
    settings, internal_service, monkeypatch, url
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    channel = postback_channel(url.format(port=internal_service.port), name="legacy")
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    connects = ConnectLog().install(monkeypatch)

    attempt = send_test_event(channel=channel)

    assert attempt.error == ErrorKind.BLOCKED_TARGET, (attempt.error, attempt.error_detail)
    assert internal_service.requests == [] and connects.addresses == []
