"""live/frames.py: a board update framed once is the frame the websocket library would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from contest.live.frames import PROTOCOL_KEY, text_frame, write_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 2_000_000])
def test_a_text_frame_is_what_websockets_would_send(size: int) -> None:
    text = ("板" + "x" * size)[:size] if size else ""
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    assert text_frame(text) == expected


def test_without_a_server_protocol_the_ordinary_send_is_used() -> None:
    assert write_frame({}, b"x") is False
    assert write_frame({PROTOCOL_KEY: object()}, b"x") is False  # another server: no transport


class _State:
    def __init__(self, name: str) -> None:
        self.name = name


class _Conn:
    def __init__(self, state: str) -> None:
        self.state = _State(state)


class _Event:
    def __init__(self, value: bool) -> None:
        self.value = value

    def is_set(self) -> bool:
        return self.value


class _Transport:
    def __init__(self, closing: bool = False) -> None:
        self.closing = closing
        self.written: list[bytes] = []

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes) -> None:
        self.written.append(data)


class _Protocol:
    def __init__(self, **kw) -> None:
        self.handshake_complete = kw.get("handshake_complete", True)
        self.close_sent = kw.get("close_sent", False)
        self.disconnected = kw.get("disconnected", False)
        self.writable = _Event(kw.get("writable", True))
        self.transport = _Transport(kw.get("closing", False))
        self.conn = _Conn(kw.get("state", "OPEN"))


def test_a_frame_goes_straight_to_an_open_transport_only() -> None:
    open_one = _Protocol()
    assert write_frame({PROTOCOL_KEY: open_one}, b"frame") is True
    assert open_one.transport.written == [b"frame"]
    for blocked in (
        {"handshake_complete": False},
        {"close_sent": True},
        {"disconnected": True},
        {"writable": False},  # back-pressure: the viewer stopped reading; send_text waits, then drops it
        {"closing": True},
        {"state": "CLOSING"},
    ):
        protocol = _Protocol(**blocked)
        assert write_frame({PROTOCOL_KEY: protocol}, b"frame") is False, blocked
        assert protocol.transport.written == []
