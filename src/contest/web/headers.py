"""Security headers on every HTTP response: pages, JSON, static files, errors and redirects alike.

Added by an application-level ``before_send`` hook (not per-route headers), so nothing slips
through: a 404 from the router, a static file and an exception page get them like a page.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline script,
no inline event handler, no ``javascript:`` URL, no style attribute. A name that gets past escaping
still cannot run. Page data reaches scripts as ``<script type="application/json">`` blocks
(``|tojson``), which are data, not script.
"""

from __future__ import annotations

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # QR codes and the seal image are data: URIs
        "connect-src 'self'",  # the websockets of the same host
        "worker-src 'self'",  # the tablet's service worker
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: runs for every message the app sends, 404s from the router included."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    headers += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    message["headers"] = headers
