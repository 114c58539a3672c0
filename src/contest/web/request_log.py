"""Logs you can follow: a request id on every line, one access line per request, JSON if asked.

Every HTTP request and websocket gets an id: the client's ``X-Request-ID`` when it is a plain token
(a reverse proxy's, so its logs and ours join up), else a new one. It is sent back in the
response's ``X-Request-ID`` and put on every log record made while the request runs (the
``request_id`` field), so "the tablet got a 500 at 10:42" finds its traceback. One access line per
request (logger ``contest.access``) replaces uvicorn's, with the id, the status and the time taken.

``CONTEST_LOG_FORMAT=json`` writes one JSON object per line (for a log collector); the default is
plain text. ID numbers are masked in either (contest.web.log_masking).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from contest.web.log_masking import mask_id_numbers

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
QUIET_PATHS = ("/healthz", "/readyz")  # load balancers' probes: logged at DEBUG only
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
access_log = logging.getLogger("contest.access")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def _install_record_factory() -> None:
    """Every record, whichever logger makes it, carries the current request's id (``-`` outside one)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_request_id", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    make_record.adds_request_id = True  # type: ignore[attr-defined]  # marks our factory, so it is installed once
    logging.setLogRecordFactory(make_record)


class JsonFormatter(logging.Formatter):
    FIELDS = ("method", "path", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int, json_lines: bool) -> None:
    """The root handler (ours and Litestar's records; uvicorn keeps its own for its start-up lines)."""
    _install_record_factory()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def with_request_ids(app: ASGIApp) -> ASGIApp:
    """ASGI middleware around the whole app (404s from the router included)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        token = REQUEST_ID.set(request_id)
        if scope["type"] == ScopeType.WEBSOCKET:
            try:
                await app(scope, receive, send)
            finally:
                REQUEST_ID.reset(token)
            return
        started = time.perf_counter()
        logged = False

        def log_access(status: int) -> None:
            path = scope.get("path", "")
            if scope.get("query_string"):
                path += "?" + scope["query_string"].decode("latin-1")
            path = mask_id_numbers(path)  # the structured field too, not only the message
            client = scope.get("client")
            address = f"{client[0]}:{client[1]}" if client else "-"
            duration = round((time.perf_counter() - started) * 1000, 1)
            level = logging.DEBUG if scope.get("path") in QUIET_PATHS else logging.INFO
            access_log.log(
                level,
                '%s "%s %s" %d %.1fms',
                address,
                scope.get("method", ""),
                path,
                status,
                duration,
                extra={"method": scope.get("method", ""), "path": path, "status": status, "duration_ms": duration, "client": address},
            )

        async def send_with_id(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                # Logged as the response starts (the time to the first byte), before the client can
                # act on it: whoever reads the log after a response finds its line there.
                log_access(message["status"])
                logged = True
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if not logged:
                log_access(500)  # the app failed before it could answer
            REQUEST_ID.reset(token)

    return middleware
