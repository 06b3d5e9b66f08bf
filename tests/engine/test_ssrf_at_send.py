"""SSRF at send time (SPEC section 6): the target is vetted again when sent, and the
connection goes to the address that was vetted, so DNS rebinding does not get through.

Private targets are allowed in the test settings (receivers live on 127.0.0.1); these
tests switch that off. DNS cannot be controlled from a test, so ``socket.getaddrinfo``
is patched for made-up ``*.rebind.test`` names only.
"""

import ipaddress
import socket
import subprocess

import pytest

from channels import ssrf
from deliveries.engine.transport import session_for
from deliveries.models import Attempt, Delivery, DeliveryStatus
from deliveries.services import send_test_event
from tests.engine.helpers import emit_and_deliver
from tests.support.factories import postback_channel, subscribe
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

SPELLINGS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "0.0.0.0",
    "0",
    "169.254.169.254",
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "100.64.0.1",
    "[fe80::1]",
    "[fc00::1]",
    "224.0.0.1",
    "240.0.0.1",
    "[2002:7f00:1::1]",
    "[64:ff9b::7f00:1]",
]


@pytest.fixture
def fake_dns(monkeypatch):
    answers: dict[str, list] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = (host.decode() if isinstance(host, bytes) else host or "").lower().rstrip(".")
        if name in answers:
            queue = answers[name]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("host", SPELLINGS)
def test_a_channel_saved_while_allowed_is_blocked_when_sent_with_the_guard_on(settings, host):
    channel = postback_channel(f"http://{host}:8080/hook")  # private targets allowed while saving
    subscribe(channel, "contact.created")
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    emit_and_deliver()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "blocked_target"
    attempt = Attempt.objects.get()
    assert attempt.error == "blocked_target" and attempt.response_status is None
    assert "not allowed" in attempt.error_detail or "internal address" in attempt.error_detail


def test_dns_rebinding_public_when_saved_private_when_sent_is_blocked(settings, fake_dns):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    fake_dns["hook.rebind.test"] = ["93.184.216.34", "127.0.0.1"]  # first lookup public, then loopback
    channel = postback_channel("http://hook.rebind.test/hook")  # vetted: public
    subscribe(channel, "contact.created")

    emit_and_deliver()

    assert Attempt.objects.get().error == "blocked_target"


def test_the_sender_connects_to_the_vetted_address_and_keeps_the_name_in_host(
    settings, fake_dns, monkeypatch, receiver
):
    """The name is looked up once, vetted, and that address is connected to: a second
    answer (what urllib3 would get if it resolved the name itself) is never used."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    loopback = ipaddress.ip_address("127.0.0.1")
    real_is_public = ssrf.is_public_address
    # Treat the test receiver's address as public, so the guard passes it like a real endpoint.
    monkeypatch.setattr(ssrf, "is_public_address", lambda ip: ip == loopback or real_is_public(ip))
    # saved, then vetted at send; a third lookup (by the HTTP client itself) would get an unreachable address
    fake_dns["hook.rebind.test"] = ["127.0.0.1", "127.0.0.1", "10.255.255.1"]
    channel = postback_channel(f"http://hook.rebind.test:{receiver.port}/hook")

    attempt = send_test_event(channel=channel)

    assert attempt.response_status == 200, attempt.error_detail
    assert receiver.requests[0].headers["host"] == f"hook.rebind.test:{receiver.port}"


def test_https_to_the_vetted_address_uses_the_name_for_sni_and_the_certificate(
    settings, fake_dns, monkeypatch, tmp_path
):
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hook.rebind.test",
            "-addext",
            "subjectAltName=DNS:hook.rebind.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    seen_sni = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    with Receiver(default=Reply(status=204, body=b""), ssl_context=context) as receiver:
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        loopback = ipaddress.ip_address("127.0.0.1")
        real_is_public = ssrf.is_public_address
        monkeypatch.setattr(ssrf, "is_public_address", lambda ip: ip == loopback or real_is_public(ip))
        fake_dns["hook.rebind.test"] = ["127.0.0.1"]
        channel = postback_channel(receiver.url("/hook", host="hook.rebind.test"))
        monkeypatch.setattr(session_for(channel.pk), "verify", str(cert))  # trust the test certificate only

        attempt = send_test_event(channel=channel)

    assert attempt.response_status == 204, attempt.error_detail
    assert seen_sni == ["hook.rebind.test"] and len(receiver.requests) == 1
