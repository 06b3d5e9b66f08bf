"""SSRF (SPEC section 6): internal targets are refused in every spelling, when saved and when sent.

Private targets are allowed in the test settings (the receivers live on 127.0.0.1),
so every test here switches ``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` off first.
"""

import pytest
from django.core.exceptions import ValidationError

from channels.models import Channel, ChannelKind
from channels.secrets import generate_secret
from channels.ssrf import BlockedTarget, vet_url
from tests.security.fake_dns import fake_dns

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.216.34"  # example.com's long-standing address; never connected to here

# The host part of a URL, in every spelling the network stack turns into an internal address.
INTERNAL_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "017700000001",  # octal
    "0177.0.0.1",
    "127.0.0.1.",  # trailing dot (resolves on some resolvers, refused either way)
    "localhost",
    "LOCALHOST",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:7f00:1]",
    "[::127.0.0.1]",
    "[::]",
    "0.0.0.0",
    "0",
    "169.254.169.254",  # cloud metadata
    "[fe80::1]",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "[fc00::1]",
    "224.0.0.1",  # multicast
    "[ff02::1]",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "[2002:7f00:1::1]",  # 6to4 wrapping 127.0.0.1
]

# Names that resolve to internal addresses (through the fake resolver).
INTERNAL_ANSWERS = {
    "loopback.rebind.test": ["127.0.0.1"],
    "metadata.rebind.test": ["169.254.169.254"],
    "private.rebind.test": ["10.0.0.1"],
    "multicast.rebind.test": ["224.0.0.1"],
    "v6-loopback.rebind.test": ["::1"],
    # One public and one private answer: a client may pick either, so the name is refused.
    "mixed.rebind.test": [PUBLIC_ADDRESS, "192.168.0.10"],
}

NOT_HTTP = [
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp://example.com/",
    "dict://127.0.0.1:6379/info",
    "javascript:alert(1)",
    "http:///no-host",
    "http://user:pass@example.com/hook",  # credentials in the URL would be sent in clear and logged
]


@pytest.fixture
def private_targets_forbidden(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    return settings


def _channel(url):
    return Channel(name="target", kind=ChannelKind.POSTBACK, url=url, secret=generate_secret())


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_every_spelling_of_an_internal_host_is_blocked_by_the_guard(private_targets_forbidden, host):
    with pytest.raises(BlockedTarget):
        vet_url(f"http://{host}:8080/hook")


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_a_channel_pointing_at_an_internal_host_is_refused_on_the_url_field(private_targets_forbidden, host):
    with pytest.raises(ValidationError) as excinfo:
        _channel(f"https://{host}/hook").full_clean()
    assert "url" in excinfo.value.message_dict


@pytest.mark.parametrize("name,addresses", sorted(INTERNAL_ANSWERS.items()))
def test_a_name_resolving_to_an_internal_address_is_refused(private_targets_forbidden, monkeypatch, name, addresses):
    with fake_dns(monkeypatch) as dns:
        dns.set(name, addresses)
        with pytest.raises(BlockedTarget, match="internal address"):
            vet_url(f"https://{name}/hook")
        with pytest.raises(ValidationError) as excinfo:
            _channel(f"https://{name}/hook").full_clean()
    assert "url" in excinfo.value.message_dict


@pytest.mark.parametrize("url", NOT_HTTP)
def test_non_http_schemes_and_credentials_are_refused(private_targets_forbidden, url):
    with pytest.raises(BlockedTarget):
        vet_url(url)
    with pytest.raises(ValidationError) as excinfo:
        _channel(url).full_clean()
    assert "url" in excinfo.value.message_dict


def test_a_name_that_does_not_resolve_is_refused(private_targets_forbidden, monkeypatch):
    with fake_dns(monkeypatch) as dns:
        dns.set("nowhere.rebind.test", [])
        with pytest.raises(BlockedTarget, match="could not be resolved"):
            vet_url("https://nowhere.rebind.test/hook")


def test_a_public_name_is_accepted_so_the_guard_is_not_refusing_everything(private_targets_forbidden, monkeypatch):
    # The positive control for every test above.
    with fake_dns(monkeypatch) as dns:
        dns.set("shop.rebind.test", [PUBLIC_ADDRESS])
        target = vet_url("https://shop.rebind.test/hook")
        _channel("https://shop.rebind.test/hook").full_clean()
    assert target.addresses == (PUBLIC_ADDRESS,)
    assert target.port == 443


def test_the_error_message_names_the_refused_address_without_leaking_anything_else(private_targets_forbidden):
    with pytest.raises(ValidationError) as excinfo:
        _channel("http://169.254.169.254/latest/meta-data/").full_clean()
    message = " ".join(excinfo.value.message_dict["url"])
    assert "169.254.169.254" in message and "internal" in message


def test_private_targets_are_allowed_only_when_the_setting_says_so(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    vet_url("http://127.0.0.1:9/hook")
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(BlockedTarget):
        vet_url("http://127.0.0.1:9/hook")


def test_the_production_default_forbids_private_targets():
    """The setting defaults to off when the environment does not say otherwise."""
    import subprocess
    import sys

    from tests.security.helpers import ROOT, clean_env

    env = clean_env()
    env.pop("WEBHOOKS_ALLOW_PRIVATE_TARGETS", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "webhooks_project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


# --- International domain names (IDNA) ------------------------------------------------

IDN_PUBLIC = {
    "bücher.rebind.test": "xn--bcher-kva.rebind.test",
    "BÜCHER.rebind.test": "xn--bcher-kva.rebind.test",
    "пример.rebind.test": "xn--e1afmkfd.rebind.test",
    "例え.rebind.test": "xn--r8jz45g.rebind.test",
}


@pytest.mark.parametrize("name,encoded", sorted(IDN_PUBLIC.items()))
def test_an_international_domain_name_is_accepted_and_vetted_as_its_idna_form(
    private_targets_forbidden, monkeypatch, name, encoded
):
    # given the IDNA (punycode) name resolves to a public address
    with fake_dns(monkeypatch) as dns:
        dns.set(encoded, [PUBLIC_ADDRESS])
        # when the URL is vetted and a channel with it is validated
        target = vet_url(f"https://{name}/hook")
        _channel(f"https://{name}/hook").full_clean()
    # then the name that was resolved is the encoded one, the one the HTTP client sends
    assert target.host == encoded and target.addresses == (PUBLIC_ADDRESS,)
    assert {looked_up for looked_up, _ in dns.lookups} == {encoded}


def test_an_international_name_resolving_to_an_internal_address_is_still_refused(
    private_targets_forbidden, monkeypatch
):
    with fake_dns(monkeypatch) as dns:
        dns.set("xn--bcher-kva.rebind.test", ["127.0.0.1"])
        with pytest.raises(BlockedTarget, match="internal address"):
            vet_url("https://bücher.rebind.test/hook")
        with pytest.raises(ValidationError) as excinfo:
            _channel("https://bücher.rebind.test/hook").full_clean()
    assert "url" in excinfo.value.message_dict


@pytest.mark.parametrize(
    "host",
    [
        "exa\u200bmple.com",  # zero-width space
        "bücher\u3002example",  # ideographic full stop, which the HTTP client cannot parse
        "-bücher.example",  # a label may not begin with a hyphen
        "xn--bcher-kva\u00df.example",  # punycode prefix with non-ASCII
    ],
)
def test_a_name_idna_refuses_is_malformed_not_a_crash(private_targets_forbidden, host):
    with pytest.raises(BlockedTarget):
        vet_url(f"https://{host}/hook")


def test_an_international_name_is_accepted_over_the_api(private_targets_forbidden, monkeypatch):
    from tests.security.conftest import make_user
    from tests.security.helpers import token_client

    client = token_client(make_user("superuser"))
    with fake_dns(monkeypatch) as dns:
        dns.set("xn--bcher-kva.rebind.test", [PUBLIC_ADDRESS])
        response = client.post(
            "/api/v1/channels/", {"name": "IDN", "url": "https://bücher.rebind.test/hook"}, format="json"
        )
    assert response.status_code == 201, response.content
