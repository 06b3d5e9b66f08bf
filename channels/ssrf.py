"""Guard against server-side request forgery (SPEC section 6).

A postback target must be http(s) and every address its host resolves to must be a
public unicast address. The resolver itself decides what ``127.1``, ``2130706433``
or ``0x7f000001`` mean, so every spelling the network stack accepts is vetted as the
address it will actually connect to. The sender connects to the vetted address
(``VettedAddressAdapter``), so a name that resolves differently a moment later (DNS
rebinding) is not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url

# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits: 64:ff9b::7f00:1 is 127.0.0.1.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedTarget(Exception):
    """The URL may not be requested. The message is safe to show to staff."""


class UnresolvableHost(BlockedTarget):
    """The host name does not resolve (now). Refused when saved; retried like a connection error when sent."""


@dataclass(frozen=True)
class VettedTarget:
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # empty when private targets are allowed and nothing was resolved


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is None and ip in _NAT64:
            mapped = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if mapped is not None:
            return is_public_address(mapped)
        if ip.teredo is not None:
            return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved or ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnresolvableHost(f"The host {host!r} could not be resolved.") from exc
    addresses = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = sockaddr[0].split("%", 1)[0]
        if addr not in addresses:
            addresses.append(addr)
    return addresses


def vet_host(host: str, port: int, *, allow_private: bool | None = None) -> tuple[str, ...]:
    """The addresses ``host`` may be connected to on ``port`` (empty: private targets allowed, not resolved)."""
    if allow_private is None:
        allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS
    if allow_private:
        return ()
    addresses = resolve(host, port)
    if not addresses:
        raise UnresolvableHost(f"The host {host!r} could not be resolved.")
    for addr in addresses:
        if not is_public_address(ipaddress.ip_address(addr)):
            raise BlockedTarget(
                f"The host {host!r} resolves to an internal address ({addr}); "
                "loopback, private, link-local, multicast and reserved targets are not allowed."
            )
    return tuple(addresses)


def ascii_host(host: str) -> str:
    """``host`` as it goes on the wire: an international name (``bücher.example``) IDNA-encoded
    (``xn--bcher-kva.example``), as the HTTP client encodes it; ASCII names unchanged.

    Raises ``BlockedTarget`` for a name IDNA refuses (disallowed characters, mixed scripts in a label).
    """
    if host.isascii():
        return host
    try:
        return idna.encode(host.lower(), uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise BlockedTarget("The URL's host is not a valid international domain name.") from exc


def vet_url(url: str, *, allow_private: bool | None = None) -> VettedTarget:
    """Check ``url`` and return the addresses that may be connected to.

    Raises ``BlockedTarget`` when the scheme is not http(s), the host is missing or
    cannot be resolved, or any resolved address is not public (unless allowed).
    """
    if not isinstance(url, str) or any(c in url for c in "\r\n\t\x00\\ "):
        raise BlockedTarget("The URL is malformed.")
    try:
        parts = urlsplit(url)
        port = parts.port
        # The HTTP client parses URLs with urllib3; refuse any URL the two parsers read differently.
        client_host = (parse_url(url).host or "").strip("[]").lower()
    except ValueError as exc:
        raise BlockedTarget("The URL is malformed.") from exc
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise BlockedTarget("Only http and https URLs are allowed.")
    host = parts.hostname
    if not host:
        raise BlockedTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise BlockedTarget("Credentials in the URL are not allowed; use a custom header instead.")
    # Vetted, compared and resolved in the form that is sent: the IDNA (punycode) name.
    host = ascii_host(host)
    if ascii_host(client_host) != host.lower():
        raise BlockedTarget("The URL is malformed.")
    port = port or (443 if scheme == "https" else 80)
    return VettedTarget(scheme, host, port, vet_host(host, port, allow_private=allow_private))


class VettedAddressAdapter(HTTPAdapter):
    """A transport adapter that vets every request's host and connects to the vetted address.

    The URL's host is replaced by the vetted IP address before urllib3 sees it; the
    ``Host`` header keeps the name, and for https the TLS SNI and certificate check
    use the name too. So the address that was checked is the address connected to,
    whatever the name resolves to a moment later. Raises ``BlockedTarget`` (not a
    ``requests`` exception) when the target is refused.
    """

    def send(self, request, *args, **kwargs):
        target = vet_url(request.url)
        if target.addresses:
            parsed = parse_url(request.url)
            address = target.addresses[0]
            literal = f"[{address}]" if ":" in address else address
            request.headers["Host"] = parsed.netloc.rsplit("@", 1)[-1]
            request.url = parsed._replace(host=literal).url
            request._vetted_hostname = target.host
        return super().send(request, *args, **kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname = getattr(request, "_vetted_hostname", None)
        if hostname and host_params.get("scheme") == "https":
            # Connect to the IP address, but speak TLS to the name: SNI and certificate check.
            pool_kwargs["server_hostname"] = hostname
            pool_kwargs["assert_hostname"] = hostname
        return host_params, pool_kwargs
