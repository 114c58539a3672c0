"""Resolve the signed-in user from the session cookie, once per request, from the database; and
the client's address, which proxy headers may only name when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from contest.accounts.service import user_for_token

SESSION_COOKIE = "contest_session"


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        async with connection.app.state.session_factory() as session:
            user = await user_for_token(session, token)
        return AuthenticationResult(user=user, auth=token if user else None)


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
