"""docs/live.md and the server agree: this test reads the page's tables and JSON examples and holds
the server to them, over real sockets.

- Error codes: the table's codes are the server's; each code is triggered and the reply's message
  is one of the texts the table lists for it (``{...}`` stands for what a message fills in); every
  message text in protocol.py is listed.
- Messages: the table's client types are the ones the server reads, its server types the ones the
  walk receives; every received message has the shape of the page's JSON example of its type.
- Close codes and limits: the codes the server uses are in the table, and are triggered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import uvicorn
from litestar.exceptions import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from contest.cli import SERVE_OPTIONS
from contest.domain import limits
from contest.domain.aggregation import CriterionRule, check_mark
from contest.live import protocol, sockets
from contest.settings import REPO_ROOT
from tests.conftest import post_form
from tests.integration.live_seed import Live, seed_live
from tests.integration.test_live_protocol import mark, send

DOC = (REPO_ROOT / "docs" / "live.md").read_text(encoding="utf-8")


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


# ------------------------------------------------------------------ reading the page


def section(title: str) -> str:
    start = DOC.index(f"### {title}\n")
    following = re.search(r"^#{2,3} ", DOC[start + 4 :], re.M)
    return DOC[start : start + 4 + following.start()] if following else DOC[start:]


def table(title: str) -> list[list[str]]:
    rows = [line for line in section(title).splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def ticks(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def documented_messages() -> dict[str, list[str]]:
    return {ticks(row[0])[0]: ticks(row[1]) for row in table("Error codes")}


def matches(template: str, message: str) -> bool:
    pattern = "".join(".+?" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}]+\})", template))
    return re.fullmatch(pattern, message) is not None


def examples() -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for block in re.findall(r"```json\n(.*?)```", DOC, re.S):
        message = json.loads(block)
        found.setdefault(message["type"], []).append(message)
    return found


def shape(value: object) -> object:
    """Keys all the way down (lists by their first element): what an example and a message share."""
    if isinstance(value, dict):
        return {key: shape(v) for key, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def same_shape(message: dict, example: dict) -> bool:
    def walk(a: object, b: object) -> bool:
        if isinstance(a, dict) and isinstance(b, dict):
            return set(a) == set(b) and all(walk(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return not a or not b or walk(a[0], b[0])
        return True

    return walk(shape(message), shape(example))


# ------------------------------------------------------------------ the tables against the code


def test_the_error_table_lists_the_servers_codes_and_every_text() -> None:
    documented = documented_messages()
    assert set(documented) == set(protocol.ERRORS)
    for code, default in protocol.ERRORS.items():
        assert default in documented[code], code
    templates = [
        protocol.NOT_JSON,
        protocol.TOO_LONG,
        protocol.TOO_DEEP,
        protocol.UNKNOWN_TYPE,
        protocol.MISSING,
        protocol.NOT_INTEGER,
        protocol.NOT_STRING,
        protocol.NOT_VALUE,
        protocol.BAD_CLIENT_ID,
    ]
    assert all(t in documented["bad_message"] for t in templates)
    assert protocol.NO_PERSON in documented["not_a_judge"]
    for field in (limits.CLIENT_ID, limits.MARK_VALUE, limits.REASON, limits.DEVICE, limits.APP_VERSION):
        problem = field.problem("x" * (field.max + 1))
        assert problem and any(matches(t, problem) for t in documented["bad_message"]), problem
        assert f"`{field.label}`" in table("Error codes")[0][2]


def test_the_value_checks_say_what_the_table_says() -> None:
    documented = documented_messages()
    scored = CriterionRule(1, "P1", Decimal(60), Decimal("0.5"), "measurement", 1, "single")
    worldskills = CriterionRule(2, "W1", Decimal(20), Decimal(1), "judgement", 3, "worldskills")
    for rule, value in ((scored, "70"), (scored, "10.25"), (scored, "NaN"), (worldskills, "4"), (worldskills, "1.5")):
        code, message = check_mark(rule, Decimal(value))  # type: ignore[misc]  # a refusal, as the test's data says
        assert any(matches(t, message) for t in documented[code]), (code, message)


def test_the_close_codes_and_limits_are_the_servers() -> None:
    codes = {int(row[0]) for row in table("Close codes")}
    assert codes == {1006, sockets.POLICY_VIOLATION, 1009, sockets.SERVER_UNAVAILABLE, sockets.CLOSE_FORBIDDEN, sockets.CLOSE_UNKNOWN}
    limits_table = {row[0]: row[1] for row in table("Limits")}
    frame = next(v for k, v in limits_table.items() if k.startswith("websocket frame"))
    assert frame == f"{SERVE_OPTIONS['ws_max_size'] // 1024} KiB"
    assert (
        next(v for k, v in limits_table.items() if k.startswith("message text"))
        == f"{protocol.MAX_MESSAGE_CHARS:,} characters (`protocol.MAX_MESSAGE_CHARS`)"
    )
    assert f"{protocol.MAX_DEPTH} levels" in next(v for k, v in limits_table.items() if k.startswith("nesting"))
    assert f"1 to {protocol.ID_MAX}" in next(v for k, v in limits_table.items() if k.startswith("ids"))
    for label, field in (
        ("`value`", limits.MARK_VALUE),
        ("`reason`", limits.REASON),
        ("`device`", limits.DEVICE),
        ("`app`", limits.APP_VERSION),
    ):
        assert limits_table[label] == f"{field.max} characters"


def test_the_message_table_names_what_the_server_reads() -> None:
    rows = table("Messages")
    client = {ticks(row[1])[0] for row in rows if row[0] == "client -> server"}
    assert client == set(protocol.JUDGE_TYPES)
    fields = {ticks(row[1])[0]: ticks(row[2]) for row in rows if row[0] == "client -> server"}
    # hello and ping carry the same status fields, all optional, and nothing else is read from them
    for kind in ("hello", "ping"):
        assert fields[kind] == list(protocol.STATUS_FIELDS), (kind, fields[kind])
        assert table("Messages")[[ticks(r[1])[0] for r in rows].index(kind)][2].startswith("optional "), kind
    status = protocol.parse_status({"device": "d", "app": "a", "pending": 1, "oldest_pending_age": 2, "other": 3})
    assert status == protocol.Status("d", "a", 1, 2)


# ------------------------------------------------------------------ the walk: every code, every reply shape


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def signed_in_as(client, other):
    """Sockets opened on ``client`` (its app, so its hub) with ``other``'s session while inside."""
    own = client.cookies.get("contest_session")
    client.cookies.set("contest_session", other.cookies.get("contest_session"))
    try:
        yield client
    finally:
        client.cookies.set("contest_session", own)


def _rename(url: str, old: str, new: str) -> None:
    with sqlite3.connect(url.split("///", 1)[1]) as db:
        db.execute(f"ALTER TABLE {old} RENAME TO {new}")


def test_every_documented_code_is_what_the_server_answers(judge_client, live, migrated, role_users) -> None:
    documented = documented_messages()
    shapes = examples()
    seen_codes: set[str] = set()
    seen_types: set[str] = set()

    def expect(reply: dict, code: str | None = None, kind: str | None = None) -> dict:
        seen_types.add(reply["type"])
        candidates = shapes[reply["type"]]
        assert any(same_shape(reply, example) for example in candidates), (reply, candidates)
        if code is not None:
            assert reply["type"] == "error" and reply["code"] == code, reply
            assert any(matches(t, reply["message"]) for t in documented[code]), (code, reply["message"])
            seen_codes.add(code)
        if kind is not None:
            assert reply["type"] == kind, reply
        return reply

    ja, jb, jo = judge_client("ja"), judge_client("jb"), judge_client("jo")
    with signed_in_as(ja, jb):  # jb on ja's app: ja's marks reach jb's tablet through the same hub
        b_socket = ja.websocket_connect("/ws/judge")
    with ja.websocket_connect("/ws/judge") as a, b_socket as b, jo.websocket_connect("/ws/judge") as o:
        expect(send(a, {"type": "hello", "device": "tablet-a", "app": "test", "pending": 0, "oldest_pending_age": 0}), kind="welcome")
        expect(send(b, {"type": "hello"}), kind="welcome")
        expect(send(a, {"type": "ping", "pending": 1, "oldest_pending_age": 3}), kind="pong")
        expect(send(a, {"type": "ping", "device": "tablet-a2", "app": "test2", "pending": 0, "oldest_pending_age": 0}), kind="pong")
        expect(send(a, {"type": "ping", "unlisted": "ignored"}), kind="pong")

        # bad_message, every variant
        for text in (
            "not json",
            "[1]",
            '"text"',
            "null",
            '{"type": "ping", "x": NaN}',
            "x" * (protocol.MAX_MESSAGE_CHARS + 1),
            json.dumps({"type": "ping", "x": [[[[1]]]]}),
            "[" * 5000 + "]" * 5000,
        ):
            a.send_text(text)
            expect(a.receive_json(), "bad_message")
        for message in (
            {"type": "dance"},
            {"kind": "mark"},
            {"type": 5},
            {"type": "mark", "client_id": str(uuid.uuid4())},
            mark(live, "乙1", "P1", "5", client_id="short"),
            mark(live, "乙1", "P1", "5", client_id="é" * 10),
            {**mark(live, "乙1", "P1", "5"), "item_id": 1.5},
            {**mark(live, "乙1", "P1", "5"), "item_id": True},
            {**mark(live, "乙1", "P1", "5"), "item_id": " 1 "},
            {**mark(live, "乙1", "P1", "5"), "item_id": "١"},
            {**mark(live, "乙1", "P1", "5"), "item_id": 2**63},
            {**mark(live, "乙1", "P1", "5"), "station": 0},
            {**mark(live, "乙1", "P1", "5"), "value": True},
            {**mark(live, "乙1", "P1", "5"), "value": [5]},
            {**mark(live, "乙1", "P1", "5"), "reason": 5},
            mark(live, "乙1", "P1", "5", reason="理" * 501),
            mark(live, "乙1", "P1", "5" * 41),
            {"type": "hello", "device": "d" * 61},
            {"type": "ping", "device": "d" * 61},
            {"type": "ping", "app": "v" * 41},
            {"type": "ping", "oldest_pending_age": 2**31},
            {"type": "ping", "pending": -1},
            {"type": "hello", "app": "v" * 41},
            {**mark(live, "乙1", "P1", "5"), "client_id": "c" * 65},
        ):
            expect(send(a, message), "bad_message")
        # integers of more digits than Python's int() reads (4,300), inside the message limit: the field is named
        huge = "9" * 5000
        for field, text in (
            ("pending", '{"type": "ping", "pending": ' + huge + "}"),
            ("item_id", json.dumps(mark(live, "乙1", "P1", "5")).replace(f'"item_id": {live.item_id}', f'"item_id": {huge}')),
            ("分值", json.dumps(mark(live, "乙1", "P1", "5")).replace('"value": "5"', f'"value": {huge}')),
        ):
            a.send_text(text)
            assert field in expect(a.receive_json(), "bad_message")["message"], field
        # a station with a fraction never lands on another station
        reply = expect(send(a, {**mark(live, "乙1", "P1", "5"), "station": live.stations["乙1"] + 0.9}), "bad_message")
        assert "station" in reply["message"]

        # the mark checks
        expect(send(a, mark(live, "乙1", "P1", "abc")), "not_a_number")
        expect(send(a, mark(live, "乙1", "P1", "١٢")), "not_a_number")
        expect(send(a, {**mark(live, "乙1", "P1", "5"), "item_id": 999}), "unknown_item")
        expect(send(a, {**mark(live, "乙1", "P1", "5"), "station": 99}), "unknown_station")
        expect(send(a, {**mark(live, "乙1", "P1", "5"), "criterion_id": 9999}), "unknown_criterion")
        expect(send(a, mark(live, "乙1", "P1", "60.5")), "out_of_range")
        expect(send(a, mark(live, "乙1", "P1", "10.25")), "off_step")
        a.send_text(
            '{"type": "mark", "client_id": "' + str(uuid.uuid4()) + f'", "item_id": {live.item_id}, "station": {live.stations["乙1"]}, '
            f'"criterion_id": {live.criteria["P1"]}, "value": 1e-999999999}}'
        )
        expect(a.receive_json(), "off_step")  # exact: not a float that underflows to 0
        a.send_text(json.dumps(mark(live, "乙1", "P1", "5")).replace('"value": "5"', '"value": 5.00000000000000000000000000000000000001'))
        assert "5.00000000000000000000000000000000000001" in expect(a.receive_json(), "off_step")["message"]  # quoted as sent
        expect(send(o, mark(live, "乙1", "P1", "10")), "not_assigned")
        expect(send(o, {**mark(live, "乙1", "P1", "10"), "item_id": live.other_item_id, "station": 1}), "item_closed")
        # a's measurements are pushed to b's tablet as `taken` whenever the hub gets to it: before or
        # after b's own replies, so b's replies are read past those pushes (kept to check below)
        pushes: list[dict] = []

        def send_b(message: dict) -> dict:
            b.send_json(message)
            while (frame := b.receive_json())["type"] == "taken":
                pushes.append(expect(frame, kind="taken"))
            return frame

        reused = mark(live, "乙2", "T1", "80")
        expect(send(a, reused), kind="ack")
        expect(send_b(reused), "client_id_reused")
        # a measurement a enters is taken for b: refused, and pushed to b's tablet
        expect(send(a, mark(live, "乙1", "P1", "40")), kind="ack")
        expect(send_b(mark(live, "乙1", "P1", "41")), "taken")
        cell = {"item_id": live.item_id, "station": live.stations["乙2"], "criterion_id": live.criteria["T1"]}
        while not any(cell in push["cells"] for push in pushes):
            pushes.append(expect(b.receive_json(), kind="taken"))

        # server_error: the database loses a table under the writer; nothing is stored, a retry later is
        _rename(migrated.database_url, "mark_submissions", "mark_submissions_away")
        retried = mark(live, "甲2", "T1", "70")
        expect(send(a, retried), "server_error")
        _rename(migrated.database_url, "mark_submissions_away", "mark_submissions")
        assert expect(send(a, retried), kind="ack")["status"] == "stored"

    jx, jc, cj = judge_client("jx"), judge_client("jc"), judge_client("cj")
    with jx.websocket_connect("/ws/judge") as x:
        expect(send(x, mark(live, "甲1", "P1", "10")), "conflict")
    for judge in (ja, jb, jc):
        with judge.websocket_connect("/ws/judge") as socket:
            expect(send(socket, mark(live, "甲2", "P2", "30")), kind="ack")
    with cj.websocket_connect("/ws/judge") as c:
        expect(send(c, mark(live, "甲2", "P2", "30")), "panel_full")

    # not_a_judge: after the client's hello, then the final close
    nobody = judge_client(role_users["judge"])
    with nobody.websocket_connect("/ws/judge") as socket:
        expect(send(socket, {"type": "hello"}), "not_a_judge")
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == sockets.CLOSE_FORBIDDEN

    # the board's and the console's messages
    with ja.websocket_connect(f"/ws/board/{live.competition_id + 999}") as board:
        expect(send(board, {"type": "hello", "seqs": {}}), "unknown_competition")
    with cj.websocket_connect(f"/ws/board/{live.competition_id}") as board, cj.websocket_connect(f"/ws/console/{live.item_id}") as console:
        expect(send(board, {"type": "hello", "seqs": {}}), kind="snapshot")
        assert expect(console.receive_json(), kind="watching") == {"type": "watching", "item_id": live.item_id}
        with cj.websocket_connect("/ws/judge") as c:  # the chief judge, as a panel member, on the same app
            expect(send(c, mark(live, "乙2", "P1", "30")), kind="ack")
        expect(board.receive_json(), kind="update")
        expect(console.receive_json(), kind="changed")

    assert seen_codes == set(documented)
    server_types = {ticks(row[1])[0] for row in table("Messages") if row[0] == "server -> client"}
    assert server_types <= seen_types


def test_the_console_socket_is_for_this_items_chief_judge(judge_client, live, migrated, role_users) -> None:
    """The other item's judge "jo" made chief judge of item 2 only: item 1's console is closed with 4403."""
    asyncio.run(_make_chief(migrated.database_url, "jo", live.other_item_id))
    other_chief = judge_client("jo")
    with pytest.raises(WebSocketDisconnect) as closed, other_chief.websocket_connect(f"/ws/console/{live.item_id}") as socket:
        socket.receive_json()
    assert closed.value.code == sockets.CLOSE_FORBIDDEN
    with pytest.raises(WebSocketDisconnect) as closed, judge_client("cj").websocket_connect(f"/ws/console/{live.item_id + 999}") as socket:
        socket.receive_json()
    assert closed.value.code == sockets.CLOSE_UNKNOWN
    # its own chief judge and an organizer are let in: a change of the item reaches them
    for name in ("cj", role_users["organizer"]):
        client = judge_client(name)
        with client.websocket_connect(f"/ws/console/{live.item_id}") as console:
            assert console.receive_json() == {"type": "watching", "item_id": live.item_id}
            station = str(live.stations["甲1"])
            assert post_form(client, f"/chief/items/{live.item_id}/time", {"station": station, "time": "1:00:00"}).status_code == 302
            assert console.receive_json() == {"type": "changed", "item_id": live.item_id}
        assert client.get(f"/chief/items/{live.item_id}/devices").status_code == 200
    assert other_chief.get(f"/chief/items/{live.item_id}/devices").status_code == 403


async def _make_chief(url: str, username: str, item_id: int) -> None:
    from sqlalchemy import select, update

    from contest.db.engine import make_engine, make_session_factory
    from contest.db.models import JudgeAssignment, User

    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        person = (await db.execute(select(User.person_id).where(User.username == username))).scalar_one()
        await db.execute(
            update(JudgeAssignment)
            .where(JudgeAssignment.item_id == item_id, JudgeAssignment.person_id == person)
            .values(role="chief_judge")
        )
        await db.execute(update(User).where(User.username == username).values(role="chief_judge"))
        await db.commit()
    await engine.dispose()


@pytest.fixture
def served(live, migrated) -> Iterator[str]:
    """The app under uvicorn with `contest serve`'s options, for the transport limits."""
    from contest.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(migrated), host="127.0.0.1", port=port, log_level="warning", **SERVE_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_frame_over_the_limit_closes_with_1009_and_a_foreign_origin_with_a_refusal(served, live) -> None:
    with connect(f"{served}/ws/board/{live.competition_id}", max_size=None, open_timeout=5) as board:
        board.send(json.dumps({"type": "hello", "seqs": {}}))
        assert json.loads(board.recv(timeout=5))["type"] == "snapshot"
        board.send("x" * (SERVE_OPTIONS["ws_max_size"] + 1))
        with pytest.raises(ConnectionClosed) as closed:
            board.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    # just under the limit is only an over-long message: ignored by a board, which stays connected
    with connect(f"{served}/ws/board/{live.competition_id}", max_size=None, open_timeout=5) as board:
        board.send("x" * (SERVE_OPTIONS["ws_max_size"] - 10))
        board.send(json.dumps({"type": "hello", "seqs": {}}))
        assert json.loads(board.recv(timeout=5))["type"] == "snapshot"
    with pytest.raises(Exception, match="403"):
        connect(f"{served}/ws/board/{live.competition_id}", origin=Origin("http://evil.example"), open_timeout=5)


def test_a_hello_the_server_cannot_answer_closes_with_1011(judge_client, live, migrated) -> None:
    """The database loses a table under a welcome: the socket is closed with 1011 (reconnect later),
    never answered with a half welcome; once the database is back, a hello is welcomed."""
    client = judge_client("ja")
    _rename(migrated.database_url, "marks", "marks_away")
    try:
        with client.websocket_connect("/ws/judge") as socket:
            socket.send_json({"type": "hello"})
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json()
        assert closed.value.code == sockets.SERVER_UNAVAILABLE
    finally:
        _rename(migrated.database_url, "marks_away", "marks")
    with client.websocket_connect("/ws/judge") as socket:
        assert send(socket, {"type": "hello"})["type"] == "welcome"
