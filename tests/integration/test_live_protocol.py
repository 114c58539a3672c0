"""The judges' websocket protocol (docs/live.md): acknowledgements, idempotent retries, every error code."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import AuditRecord, Mark, MarkSubmission
from tests.integration.live_seed import Live, seed_live


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


def mark(live: Live, station: str, code: str, value: object, client_id: str | None = None, **extra) -> dict:
    return {
        "type": "mark",
        "client_id": client_id or str(uuid.uuid4()),
        "item_id": live.item_id,
        "station": live.stations[station],
        "criterion_id": live.criteria[code],
        "value": value,
        **extra,
    }


def send(socket, message: dict) -> dict:
    socket.send_json(message)
    return socket.receive_json()


def _counts(url: str) -> dict[str, int]:
    async def run() -> dict[str, int]:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            result = {
                "marks": (await db.execute(select(func.count()).select_from(Mark))).scalar_one(),
                "submissions": (await db.execute(select(func.count()).select_from(MarkSubmission))).scalar_one(),
                "audit_marks": (
                    await db.execute(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "mark.set"))
                ).scalar_one(),
            }
        await engine.dispose()
        return result

    return asyncio.run(run())


def test_a_mark_is_stored_once_and_a_retry_is_acknowledged_again(judge_client, app, live, migrated) -> None:
    client = judge_client("ja")
    with client.websocket_connect("/ws/judge") as socket:
        message = mark(live, "乙1", "P1", "55.5")
        first = send(socket, message)
        assert first["type"] == "ack" and first["status"] == "stored"
        assert first["client_id"] == message["client_id"] and first["value"] == "55.5" and first["seq"] >= 1
        retry = send(socket, message)
        assert retry["status"] == "duplicate" and retry["seq"] == first["seq"] and retry["value"] == "55.5"
    # a retry after a reconnect (the tablet's outbox) is still a duplicate
    with client.websocket_connect("/ws/judge") as socket:
        welcome = send(socket, {"type": "hello", "device": "tablet-7"})
        assert welcome["type"] == "welcome"
        assert {
            "item_id": live.item_id,
            "station": live.stations["乙1"],
            "criterion_id": live.criteria["P1"],
            "value": "55.5",
            "seq": first["seq"],
        } in welcome["marks"]
        assert send(socket, message)["status"] == "duplicate"
    assert _counts(migrated.database_url) == {"marks": 1, "submissions": 1, "audit_marks": 1}


def test_changing_a_mark_keeps_the_history_in_the_audit_log(judge_client, app, live, migrated) -> None:
    client = judge_client("ja")
    with client.websocket_connect("/ws/judge") as socket:
        first = send(socket, mark(live, "乙1", "P2", "30"))
        second = send(socket, mark(live, "乙1", "P2", "32", reason="看错了工位"))
        assert second["status"] == "stored" and second["seq"] > first["seq"]

    async def audit() -> list[dict]:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            rows = (await db.execute(select(AuditRecord).where(AuditRecord.action == "mark.set").order_by(AuditRecord.id))).scalars().all()
            details = [{**r.detail, "actor": r.actor, "device": r.device} for r in rows]
        await engine.dispose()
        return details

    history = asyncio.run(audit())
    assert [(h["old"], h["new"], h["reason"], h["actor"]) for h in history] == [(None, "30", "", "ja"), ("30", "32", "看错了工位", "ja")]
    assert all(h["device"] for h in history)
    assert _counts(migrated.database_url)["marks"] == 1


ERROR_CASES = [
    # (judge, message factory, expected code)
    ("ja", lambda live: {"type": "mark", "client_id": str(uuid.uuid4())}, "bad_message"),
    ("ja", lambda live: mark(live, "乙1", "P1", "5", client_id="short"), "bad_message"),
    ("ja", lambda live: mark(live, "乙1", "P1", "abc"), "not_a_number"),
    ("ja", lambda live: mark(live, "乙1", "P1", "NaN"), "not_a_number"),
    ("ja", lambda live: {**mark(live, "乙1", "P1", "5"), "item_id": 999}, "unknown_item"),
    ("ja", lambda live: {**mark(live, "乙1", "P1", "5"), "station": 99}, "unknown_station"),
    ("ja", lambda live: {**mark(live, "乙1", "P1", "5"), "criterion_id": 9999}, "unknown_criterion"),
    ("ja", lambda live: mark(live, "乙1", "P1", "60.5"), "out_of_range"),
    ("ja", lambda live: mark(live, "乙1", "P1", "-1"), "out_of_range"),
    ("ja", lambda live: mark(live, "乙1", "P1", "10.25"), "off_step"),
    ("jx", lambda live: mark(live, "甲1", "P1", "10"), "conflict"),
    ("jo", lambda live: mark(live, "乙1", "P1", "10"), "not_assigned"),
    ("jo", lambda live: {**mark(live, "乙1", "P1", "10"), "item_id": live.other_item_id, "station": 1}, "item_closed"),
]


@pytest.mark.parametrize(("username", "factory", "code"), ERROR_CASES)
def test_refusals_carry_a_code_and_a_chinese_message(judge_client, app, live, migrated, username, factory, code) -> None:
    client = judge_client(username)
    with client.websocket_connect("/ws/judge") as socket:
        message = factory(live)
        reply = send(socket, message)
    assert reply["type"] == "error" and reply["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reply["message"])
    assert _counts(migrated.database_url)["marks"] == 0


def test_measurement_taken_panel_full_and_reused_client_id(judge_client, app, live, migrated) -> None:
    clients = {name: judge_client(name) for name in ("ja", "jb", "jc", "cj")}
    sockets = {name: c.websocket_connect("/ws/judge").__enter__() for name, c in clients.items()}
    assert send(sockets["ja"], mark(live, "乙1", "P1", "40"))["status"] == "stored"
    assert send(sockets["jb"], mark(live, "乙1", "P1", "41"))["code"] == "taken"
    for name in ("ja", "jb", "jc"):
        assert send(sockets[name], mark(live, "乙1", "P2", "30"))["status"] == "stored"
    assert send(sockets["cj"], mark(live, "乙1", "P2", "30"))["code"] == "panel_full"
    reused = mark(live, "乙2", "T1", "80")
    assert send(sockets["ja"], reused)["status"] == "stored"
    assert send(sockets["jb"], reused)["code"] == "client_id_reused"
    for socket in sockets.values():
        socket.__exit__(None, None, None)
    assert _counts(migrated.database_url)["marks"] == 5


def test_non_json_and_unknown_messages(judge_client, app, live) -> None:
    client = judge_client("ja")
    with client.websocket_connect("/ws/judge") as socket:
        socket.send_text("not json")
        assert socket.receive_json()["code"] == "bad_message"
        assert send(socket, {"type": "dance"})["code"] == "bad_message"
        assert send(socket, {"type": "ping"}) == {"type": "pong"}


def test_anonymous_and_non_judges_cannot_open_the_judge_socket(judge_client, app, live, role_users) -> None:
    from litestar.exceptions import WebSocketDisconnect

    with TestClient(app=app) as anonymous, pytest.raises(WebSocketDisconnect), anonymous.websocket_connect("/ws/judge") as socket:
        socket.receive_json()
    organizer = judge_client(role_users["organizer"])
    with pytest.raises(WebSocketDisconnect), organizer.websocket_connect("/ws/judge") as socket:
        socket.receive_json()


def test_a_judge_account_without_a_person_is_told_so_after_its_hello(judge_client, app, live, role_users) -> None:
    from litestar.exceptions import WebSocketDisconnect

    from contest.live.sockets import CLOSE_FORBIDDEN

    client = judge_client(role_users["judge"])  # "judge1" has no linked person
    with client.websocket_connect("/ws/judge") as socket:
        reply = send(socket, {"type": "hello", "device": "tablet-x"})
        assert reply["code"] == "not_a_judge" and "关联裁判人员" in reply["message"]
        with pytest.raises(WebSocketDisconnect) as closed:  # final: the tablet stops reconnecting on this code
            socket.receive_json()
    assert closed.value.code == CLOSE_FORBIDDEN


def test_the_device_is_audited_as_sent_and_null_is_no_device(judge_client, app, live, migrated) -> None:
    client = judge_client("ja")
    with client.websocket_connect("/ws/judge", headers={"user-agent": "TestTablet/1"}) as socket:
        assert send(socket, {"type": "hello", "device": None})["type"] == "welcome"
        assert send(socket, mark(live, "乙1", "T1", "50"))["status"] == "stored"
        assert send(socket, {"type": "hello", "device": "tablet-7"})["type"] == "welcome"
        assert send(socket, mark(live, "乙2", "T1", "60"))["status"] == "stored"
        over = send(socket, {"type": "hello", "device": "d" * 61})
        assert over["code"] == "bad_message" and over["message"] == "设备名称过长:最多 60 个字符,实际 61 个"
        assert send(socket, mark(live, "甲2", "T1", "70"))["status"] == "stored"  # the refused hello changed nothing
        over = send(socket, {"type": "ping", "device": "d" * 61})
        assert over["code"] == "bad_message" and over["message"] == "设备名称过长:最多 60 个字符,实际 61 个"
        assert send(socket, {"type": "ping", "device": "tablet-8", "app": "0.1"})["type"] == "pong"  # renamed by a ping
        assert send(socket, mark(live, "甲1", "T1", "75"))["status"] == "stored"

    async def devices() -> list[str]:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            rows = (
                (await db.execute(select(AuditRecord.device).where(AuditRecord.action == "mark.set").order_by(AuditRecord.id)))
                .scalars()
                .all()
            )
        await engine.dispose()
        return list(rows)

    assert asyncio.run(devices()) == ["TestTablet/1", "tablet-7 TestTablet/1", "tablet-7 TestTablet/1", "tablet-8 TestTablet/1"]


def test_a_foreign_origin_is_refused(judge_client, app, live) -> None:
    from litestar.exceptions import WebSocketDisconnect

    client = judge_client("ja")
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/judge", headers={"origin": "http://evil.example"}) as socket:
        socket.receive_json()


def test_refusals_are_worded_in_the_judges_language(judge_client, app, live, role_users) -> None:
    """The tablet shows the server's message: in English for a judge reading English (the lang
    cookie, else the browser's Accept-Language), Chinese otherwise; the code is the same."""
    jx = judge_client("jx")  # 甲单位: conflicted with 甲1 and 甲2
    english = {"accept-language": "en-US,en;q=0.9"}
    with jx.websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "甲1", "P1", "10"))["message"] == "您与该参赛单元需要回避,不能评分"
    with jx.websocket_connect("/ws/judge", headers=english) as socket:
        conflict = send(socket, mark(live, "甲1", "P1", "10"))
        assert conflict["code"] == "conflict"
        assert conflict["message"] == "You have a conflict of interest with this entry and may not score it"
        off_step = send(socket, mark(live, "乙1", "P1", "10.25"))
        assert off_step["code"] == "off_step"
        assert off_step["message"] == "Criterion “P1”: mark 10.25 is not a whole multiple of the step 0.5"
        station = send(socket, {**mark(live, "乙1", "P1", "10"), "station": 99})
        assert station["code"] == "unknown_station" and station["message"] == "Station 99 does not exist"
        bad = send(socket, {**mark(live, "乙1", "P1", "10"), "item_id": 1.5})
        assert bad["message"] == "Field item_id must be an integer from 1 to 2147483647"
    jx.cookies.set("lang", "zh")  # the reader's choice wins over the browser's
    with jx.websocket_connect("/ws/judge", headers=english) as socket:
        assert send(socket, mark(live, "甲1", "P1", "10"))["message"] == "您与该参赛单元需要回避,不能评分"
    jx.cookies.set("lang", "en")
    with jx.websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "甲1", "P1", "10"))["message"].startswith("You have a conflict")
    nobody = judge_client(role_users["judge"])
    nobody.cookies.set("lang", "en")
    with nobody.websocket_connect("/ws/judge") as socket:
        assert send(socket, {"type": "hello"})["message"] == "This account is not linked to a judge; please contact the organizer"
