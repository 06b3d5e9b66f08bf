"""Guard against server-side request forgery (SPEC section 6).

A postback target must be http(s) and every address its host resolves to must be a
public unicast address. The resolver itself decides what ``127.1``, ``2130706433``
or ``0x7f000001`` mean, so every spelling the network stack accepts is vetted as the
address it will actually connect to. The sender connects to the vetted address, so a
name that resolves differently a moment later (DNS rebinding) is not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class BlockedTarget(Exception):
    """The URL may not be requested. The message is safe to show to staff."""


@dataclass(frozen=True)
class VettedTarget:
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # empty when private targets are allowed and nothing was resolved


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
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
        raise BlockedTarget(f"The host {host!r} could not be resolved.") from exc
    addresses = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = sockaddr[0].split("%", 1)[0]
        if addr not in addresses:
            addresses.append(addr)
    return addresses


def vet_url(url: str, *, allow_private: bool | None = None) -> VettedTarget:
    """Check ``url`` and return the addresses that may be connected to.

    Raises ``BlockedTarget`` when the scheme is not http(s), the host is missing or
    cannot be resolved, or any resolved address is not public (unless allowed).
    """
    if allow_private is None:
        allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS
    try:
        parts = urlsplit(url)
        port = parts.port
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
    port = port or (443 if scheme == "https" else 80)
    if allow_private:
        return VettedTarget(scheme, host, port, ())
    addresses = resolve(host, port)
    if not addresses:
        raise BlockedTarget(f"The host {host!r} could not be resolved.")
    for addr in addresses:
        if not is_public_address(ipaddress.ip_address(addr)):
            raise BlockedTarget(
                f"The host {host!r} resolves to an internal address ({addr}); "
                "loopback, private, link-local, multicast and reserved targets are not allowed."
            )
    return VettedTarget(scheme, host, port, tuple(addresses))
