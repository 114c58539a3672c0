"""Download links for a competitor's certificate: the serial and an expiry, signed (HMAC-SHA256)
with the app's secret key. A successful look-up hands them out; nothing is stored, and several
processes agree on them as they share the key."""

from __future__ import annotations

import hashlib
import hmac
import time

LINK_SECONDS = 2 * 3600


def _mac(secret: str, serial: str, expires: int) -> str:
    message = f"certificate:{serial}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def sign(secret: str, serial: str, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + LINK_SECONDS)
    return f"{expires}.{_mac(secret, serial, expires)}"


def valid(secret: str, serial: str, token: str, now: float | None = None) -> bool:
    expires_text, _, mac = (token or "").partition(".")
    if not expires_text.isascii() or not expires_text.isdigit() or len(expires_text) > 12 or len(mac) != 32:
        return False
    expires = int(expires_text)
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(mac, _mac(secret, serial, expires))
