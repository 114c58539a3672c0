"""Public pages as cacheable HTTP: published results, the public search, the board and its snapshot.

A route opts in with ``middleware=[PUBLIC_CACHE]`` and ``opt={..., "exclude_from_csrf": True}``
(see ``public_route_opt``). Then, for a reader who is not signed in:

- the response carries ``Cache-Control: public, max-age=PUBLIC_MAX_AGE,
  stale-while-revalidate=STALE_WHILE_REVALIDATE``, a strong ``ETag`` (a hash of the body) and a
  ``Last-Modified`` (when this process first served that body), and ``Vary: Accept-Language, Cookie``;
- a request whose ``If-None-Match`` names the current ETag (or, without one, whose
  ``If-Modified-Since`` is not older than Last-Modified) gets ``304 Not Modified`` without a body.
  A reverse proxy's micro-cache revalidates that way (docs/deploy.md), so thousands of phones
  polling a page cost the app about one request per ``max-age`` per URL and language.
  ``REVOCABLE_CACHE`` is the same with a shorter stale-while-revalidate (the certificate
  verification page: a revocation shows within seconds).

Nothing personal may be shared, by construction:
- a signed-in reader's copy is ``private, no-store`` (the page header names the user);
- the CSRF middleware is skipped on these routes, so a shared body holds no one's CSRF token
  and no ``Set-Cookie`` is sent (a signed-in reader gets the token of their own cookie, which the
  logout form in the page header needs);
- any response that still sets a cookie, or is not a 200, is sent ``private, no-store``.

The language is chosen from the ``lang`` cookie, else ``Accept-Language`` (``contest.i18n``): hence
``Vary: Accept-Language, Cookie``. A proxy that keys its cache on the language itself (the nginx
configuration in docs/deploy.md does, and ignores Vary) keeps one copy per language instead of
one per cookie jar.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

PUBLIC_MAX_AGE = 5  # seconds a shared cache may serve a copy without asking
STALE_WHILE_REVALIDATE = 30  # and then serve it stale while it asks
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"
PRIVATE_CACHE_CONTROL = "private, no-store"
VARY = "Accept-Language, Cookie"
CSRF_COOKIE = "csrftoken"  # Litestar's default CSRFConfig.cookie_name
_SEEN_LIMIT = 4096  # ETags remembered for Last-Modified (per process)


def public_route_opt(base: dict[str, Any]) -> dict[str, Any]:
    """A route's opt for a cacheable public page: its access rule plus no CSRF cookie/token."""
    return {**base, "exclude_from_csrf": True}


class PublicCacheMiddleware:
    cache_control = PUBLIC_CACHE_CONTROL

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._first_seen: OrderedDict[str, float] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if scope.get("user") is not None:
            await self._private(scope, receive, send)
            return
        start: Any = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    assert start is not None
                    await self._finish(scope, send, start, b"".join(chunks))
            else:
                await send(message)

        await self.app(scope, receive, buffer)

    async def _private(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A signed-in reader: their own CSRF token (the page header's logout form), never cached."""
        cookie = _request_cookie(scope, CSRF_COOKIE)
        if cookie:
            ScopeState.from_scope(scope).csrf_token = cookie

        async def mark(message: Message) -> None:
            if message["type"] == "http.response.start":
                private = {b"cache-control": PRIVATE_CACHE_CONTROL.encode(), b"vary": VARY.encode()}
                message["headers"] = _with(message.get("headers", []), private)
            await send(message)

        await self.app(scope, receive, mark)

    async def _finish(self, scope: Scope, send: Any, start: Any, body: bytes) -> None:
        # send and start as Any: the messages below are plain ASGI dicts, not Litestar's TypedDicts
        headers = list(start.get("headers", []))
        names = {bytes(name).lower() for name, _ in headers}
        if start["status"] != 200 or b"set-cookie" in names:
            headers = _with(headers, {b"cache-control": PRIVATE_CACHE_CONTROL.encode()})
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        modified = self._modified(etag)
        cache = {
            b"cache-control": self.cache_control.encode(),
            b"etag": etag.encode(),
            b"last-modified": formatdate(modified, usegmt=True).encode(),
            b"vary": VARY.encode(),
        }
        if _not_modified(scope, etag, modified):
            kept = [(n, v) for n, v in headers if bytes(n).lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": _with(kept, cache)})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": _with(headers, cache)})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

    def _modified(self, etag: str) -> float:
        """When this process first served this body (whole seconds, as HTTP dates are)."""
        seen = self._first_seen.get(etag)
        if seen is None:
            seen = float(int(time.time()))
            self._first_seen[etag] = seen
            if len(self._first_seen) > _SEEN_LIMIT:
                self._first_seen.popitem(last=False)
        return seen


PUBLIC_CACHE = PublicCacheMiddleware

# What may change to its reader's harm (a certificate revoked): stale for at most
# REVOCABLE_MAX_AGE + REVOCABLE_STALE seconds behind a cache that follows the header.
REVOCABLE_MAX_AGE = 5
REVOCABLE_STALE = 5
REVOCABLE_CACHE_CONTROL = f"public, max-age={REVOCABLE_MAX_AGE}, stale-while-revalidate={REVOCABLE_STALE}"


class RevocableCacheMiddleware(PublicCacheMiddleware):
    """``PUBLIC_CACHE`` with a shorter stale-while-revalidate: the certificate verification page."""

    cache_control = REVOCABLE_CACHE_CONTROL


REVOCABLE_CACHE = RevocableCacheMiddleware


def _with(headers: Any, replace: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    kept = [(bytes(n), bytes(v)) for n, v in headers if bytes(n).lower() not in replace]
    return kept + list(replace.items())


def _request_header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _request_cookie(scope: Scope, name: str) -> str | None:
    raw = _request_header(scope, b"cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def _not_modified(scope: Scope, etag: str, modified: float) -> bool:
    if_none_match = _request_header(scope, b"if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = _request_header(scope, b"if-modified-since")
    if since:
        try:
            return parsedate_to_datetime(since).timestamp() >= modified
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False
