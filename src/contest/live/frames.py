"""One websocket frame for every viewer: an update is framed once and the same bytes are written
to each board's connection.

A server's frames are not masked (RFC 6455 5.1) and `contest serve` does not compress them, so a
text frame is the same bytes for every viewer. Through the ASGI ``send`` every viewer's copy is
encoded and framed again by the server's websocket protocol (uvicorn, sans-io websockets), and
each send is a coroutine: ~28 us per viewer per update, 140 ms of event loop for 5,000 boards
(bench/results/live.md), during which judges' acknowledgements wait.

``served(app)`` is the ASGI app `contest serve` runs: it puts the server's websocket protocol
object in the scope (``scope[PROTOCOL_KEY]``) so the hub can write a ready frame to its transport.
The fast path is taken only when the connection is open and the transport is not applying
back-pressure; otherwise (another server, a test client, a viewer that stopped reading) the hub
uses the ordinary ``send_text``, which waits, and drops a viewer that stalls (live/hub.py).
"""

from __future__ import annotations

import struct
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from contest.live.handoff import BOARD_SOCKET_PREFIX, BoardProcesses

PROTOCOL_KEY = "contest.ws_protocol"


def text_frame(text: str) -> bytes:
    """An unmasked, unfragmented text frame (FIN, opcode 1) carrying ``text``."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


def served(app: ASGIApp, boards: BoardProcesses | None = None) -> ASGIApp:
    """The app as a server runs it: websocket scopes carry the server's protocol object, and a
    board's websocket goes to a board process when there is one (live/handoff.py)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) == "websocket":
            protocol = getattr(send, "__self__", None)
            if protocol is not None and hasattr(protocol, "transport") and hasattr(protocol, "conn"):
                scope[PROTOCOL_KEY] = protocol  # type: ignore[literal-required]  # our own key in the ASGI scope
                if boards is not None and scope["path"].startswith(BOARD_SOCKET_PREFIX) and boards.hand_off(scope, protocol):
                    # Handed over: wait for the server to notice our copy is closed (it then
                    # writes nothing), and let the board process answer the handshake.
                    while (await receive())["type"] != "websocket.disconnect":
                        pass
                    return
        await app(scope, receive, send)

    asgi.__wrapped__ = app  # type: ignore[attr-defined]  # for code that needs the Litestar app (tests, state)
    return asgi


def write_frame(scope: Any, frame: bytes) -> bool:
    """Write a ready frame straight to the viewer's transport; False if it must go the slow way
    (no such protocol, not open, closing, or its buffer is full: then ``send_text`` waits)."""
    protocol = scope.get(PROTOCOL_KEY)
    if protocol is None:
        return False
    try:
        transport = protocol.transport
        if (
            not protocol.handshake_complete
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or transport is None
            or transport.is_closing()
            or protocol.conn.state.name != "OPEN"
        ):
            return False
        transport.write(frame)
    except AttributeError:  # another server implementation: the ordinary path
        return False
    return True
