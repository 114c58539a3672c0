"""The client's address, which proxy headers may only name when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in proxies)


def client_address(connection: ASGIConnection, trusted_proxies: Sequence[Network]) -> str:
    """The address login throttling counts against. X-Forwarded-For / X-Real-IP are believed only
    when the peer is a trusted proxy (CONTEST_TRUSTED_PROXIES): anyone else could send them to be
    counted as someone else, or as a new address every time."""
    peer = connection.client.host if connection.client else ""
    if not _trusted(peer, trusted_proxies):
        return peer
    forwarded = [hop.strip() for hop in ",".join(connection.headers.getall("x-forwarded-for", [])).split(",") if hop.strip()]
    # Each proxy appends the address it saw: from the right, the first that is not one of our
    # proxies is the client (what is left of it the client may have written itself).
    for hop in reversed(forwarded):
        if _ip(hop) is None:
            return peer  # a trusted proxy passed on something that is no address: count the proxy
        if not _trusted(hop, trusted_proxies):
            return str(_ip(hop))
    real = connection.headers.get("x-real-ip", "")
    if not forwarded and _ip(real) is not None:
        return str(_ip(real))
    return str(_ip(forwarded[0])) if forwarded else peer
