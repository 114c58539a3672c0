"""A message shown once on the page after a redirect ("已保存"), in a signed cookie.

``saved(url, "已保存")`` answers a POST with a redirect that carries the message; the next HTML
page shows it (``flash_message()`` in base.html, looked up in the reader's language) and its
response deletes the cookie (``clear_shown_flash``, a before_send hook). The cookie is signed with
the secret key, so a page never shows text a third party put there; no script, so nothing for
the CSP to refuse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from litestar.datastructures import Cookie
from litestar.response import Redirect
from litestar.types import Message, Scope

from contest.domain.text import Text

COOKIE = "flash"
MAX_AGE = 120  # seconds: the redirect is followed at once


def _secret(scope: Any) -> bytes:
    return str(scope["app"].state.settings.secret_key).encode()


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, b"flash:" + payload.encode(), hashlib.sha256).hexdigest()[:32]


def encode(secret: bytes, message: str) -> str:
    data = {"t": getattr(message, "template", str(message)), "p": getattr(message, "params", {}) or {}}
    payload = base64.urlsafe_b64encode(json.dumps(data, ensure_ascii=False, default=str).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(secret, payload)}"


def decode(secret: bytes, value: str | None) -> Text | None:
    if not value or "." not in value or len(value) > 3000:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return Text(str(data["t"]), **{str(k): v for k, v in dict(data.get("p") or {}).items()})
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def saved(request: Any, url: str, message: str = "已保存") -> Redirect:
    """A redirect to ``url`` whose page says ``message`` once."""
    value = encode(_secret(request.scope), message)
    return Redirect(url, cookies=[Cookie(key=COOKIE, value=value, max_age=MAX_AGE, path="/", httponly=True, samesite="lax")])


def current(request: Any) -> Text | None:
    if request is None:
        return None
    return decode(_secret(request.scope), request.cookies.get(COOKIE))


async def clear_shown_flash(message: Message, scope: Scope) -> None:
    """An HTML page (not an htmx fragment) was sent while the cookie was set: it showed the
    message, so the response deletes the cookie."""
    if message["type"] != "http.response.start":
        return
    headers = dict(scope.get("headers") or [])
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    if f"{COOKIE}=" not in cookie or b"hx-request" in headers:
        return
    sent = {k.lower(): v for k, v in message.get("headers", [])}
    status = int(message.get("status", 200))
    if 300 <= status < 400 or not sent.get(b"content-type", b"").startswith(b"text/html"):
        return
    message["headers"] = [*message.get("headers", []), (b"set-cookie", f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax".encode())]
