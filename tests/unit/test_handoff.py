"""live/handoff.py's pure parts: the request head a board process reads again, and what happens
when no board process can take a connection (served where it arrived)."""

from __future__ import annotations

import h11

from contest.live.handoff import BoardProcesses, request_head


def test_the_request_head_is_the_handshake_as_it_arrived() -> None:
    scope = {
        "path": "/ws/board/7",
        "raw_path": b"/ws/board/7",
        "query_string": b"lang=en",
        "headers": [(b"host", b"hall:8000"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"), (b"cookie", b"lang=en")],
    }
    head = request_head(scope)
    parser = h11.Connection(h11.SERVER)
    parser.receive_data(head)
    request = parser.next_event()
    assert isinstance(request, h11.Request)
    assert request.method == b"GET" and request.target == b"/ws/board/7?lang=en"
    assert list(request.headers) == scope["headers"]
    assert head.endswith(b"\r\n\r\n") and head.count(b"\r\n\r\n") == 1


def test_without_board_processes_nothing_is_handed_off() -> None:
    boards = BoardProcesses(0, ["unused"], channels=None, forward_notices=False)  # type: ignore[arg-type]  # never used with none
    assert boards.hand_off({"path": "/ws/board/1", "headers": []}, protocol=object()) is False
    assert boards.alive == 0 and boards.handed_off == 0
    assert boards.served_here == 0  # none configured: not a fallback either (that would be counted)
