"""Where a webhook may point (SSRF care).

A webhook's target is normally the provincial one-stop information system on the
government LAN, so private addresses (10/8, 172.16/12, 192.168/16, fc00::/7) are expected
and allowed. Refused: schemes other than http/https, credentials in the URL (the signature
is the authentication), link-local addresses (169.254.0.0/16 and fe80::/10: cloud and
router metadata services), the unspecified and "this network" addresses (0.0.0.0/8, ::),
multicast, and the server's own loopback (127.0.0.0/8, ::1, ``localhost``) unless the
setting ``WEBHOOK_ALLOW_LOOPBACK`` allows it.

The URL is checked when the webhook is created, and the name is resolved and every address
checked again before each POST, which then connects only to a checked address (no second
lookup, so a name cannot be re-pointed between the check and the connection). Redirects are
never followed.
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from urllib.parse import SplitResult, urlsplit

from onestop.queueing.errors import DomainError
from onestop.webhooks.models import MAX_URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class BlockedAddress(Exception):
    """The target resolves to an address webhooks may not reach."""


def blocked_reason(address: IPAddress, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be a webhook target, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "link_local"
    if address.is_unspecified or (isinstance(address, ipaddress.IPv4Address) and address in THIS_NETWORK):
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback and not allow_loopback:
        return "loopback"
    return None


def _invalid(reason: str) -> DomainError:
    return DomainError("invalid_webhook_url", status=422, reason=reason)


def _parts(url: str) -> SplitResult:
    if not url or len(url) > MAX_URL:
        raise _invalid("length")
    if not url.isascii() or any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        raise _invalid("characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid("scheme")
    if parts.username is not None or parts.password is not None:
        raise _invalid("credentials")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise _invalid("port") from None
    if not parts.hostname:
        raise _invalid("host")
    return parts


def check_url(url: str, allow_loopback: bool) -> str:
    """The URL, stripped, if a webhook may have it; ``invalid_webhook_url`` (422, ``reason``:
    length, characters, scheme, credentials, port, host, link_local, loopback, ...)."""
    url = (url or "").strip()
    host = _parts(url).hostname or ""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        is_local_name = host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")
        if is_local_name and not allow_loopback:
            raise _invalid("loopback") from None
        return url
    reason = blocked_reason(address, allow_loopback)
    if reason:
        raise _invalid(reason)
    return url


def resolve(host: str, port: int, allow_loopback: bool) -> list[str]:
    """The addresses to connect to, in the resolver's order: every address ``host`` resolves
    to must be allowed (``BlockedAddress`` otherwise)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for text in addresses:
        reason = blocked_reason(ipaddress.ip_address(text.split("%", 1)[0]), allow_loopback)
        if reason:
            raise BlockedAddress(f"{reason} {text}")
    if not addresses:
        raise BlockedAddress("no address")
    return addresses
