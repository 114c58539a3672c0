"""Websocket endpoints: the judge's tablet, the boards, the chief judge's console.

No request-scoped DB session here (it would live as long as the connection): a mark goes to the
process's mark writer (live/writer.py), every other message opens its own short session. CSRF does
not cover websockets, so the Origin is checked on accept.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlparse

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy import select

from contest.db.models import JudgeAssignment
from contest.live.service import ERRORS, Judge, MarkRefused, judge_marks, parse_mark
from contest.domain.roles import CHIEF_JUDGE, ORGANIZER
from contest.web.guards import EVERYONE, JUDGES, access

CONSOLE = access(CHIEF_JUDGE, ORGANIZER)

log = logging.getLogger("contest.live")

POLICY_VIOLATION = 1008


def origin_allowed(socket: WebSocket) -> bool:
    """Same host as the page (or a configured origin); a missing Origin is a non-browser client."""
    origin = socket.headers.get("origin")
    if not origin:
        return True
    allowed = socket.app.state.settings.allowed_origins
    return urlparse(origin).netloc == socket.headers.get("host") or origin in allowed


async def _accept(socket: WebSocket) -> bool:
    if not origin_allowed(socket):
        await socket.close(code=POLICY_VIOLATION, reason="origin not allowed")
        return False
    await socket.accept()
    return True


def _error(code: str, message: str | None = None, client_id: str | None = None) -> dict:
    body = {"type": "error", "code": code, "message": message or ERRORS.get(code, code)}
    if client_id:
        body["client_id"] = client_id
    return body


@websocket("/ws/judge", opt=JUDGES)
async def judge_socket(socket: WebSocket) -> None:
    if not await _accept(socket):
        return
    user = socket.scope["user"]
    state = socket.app.state
    if user.person_id is None:
        await socket.send_json(_error("not_a_judge", "当前账号没有关联裁判人员信息,请联系组织方"))
        await socket.close()
        return
    user_agent = socket.headers.get("user-agent", "")[:120]
    judge = Judge(user.id, user.username, user.person_id, user_agent)
    try:
        while True:
            try:
                payload = json.loads(await socket.receive_text())
                kind = payload.get("type") if isinstance(payload, dict) else None
            except (ValueError, TypeError):
                await socket.send_json(_error("bad_message", "消息不是 JSON 对象"))
                continue
            if kind == "mark":
                await socket.send_json(await _store(state, judge, payload))
            elif kind == "hello":
                device = str(payload.get("device", ""))[:60]
                if device:
                    judge = Judge(judge.user_id, judge.username, judge.person_id, f"{device} {user_agent}"[:200])
                await socket.send_json(await _welcome(state, judge))
            elif kind == "ping":
                await socket.send_json({"type": "pong"})
            else:
                await socket.send_json(_error("bad_message", "未知的消息类型"))
    except WebSocketDisconnect:
        return


async def _store(state, judge: Judge, payload: dict) -> dict:  # type: ignore[no-untyped-def]
    client_id = str(payload.get("client_id", ""))[:64] or None
    try:
        outcome = await state.mark_writer.submit(judge, parse_mark(payload))
    except MarkRefused as refused:  # a malformed message, refused before it is queued
        return _error(refused.code, refused.message, client_id)
    except Exception:  # noqa: BLE001 - logged by the writer; the tablet keeps the mark and resends it
        return _error("server_error", "服务器暂时无法保存,标记将自动重发", client_id)
    if isinstance(outcome, MarkRefused):
        return _error(outcome.code, outcome.message, client_id)
    ack, competition_id = outcome
    if competition_id is not None:
        state.hub.notify(competition_id, ack.item_id, ack.seq)
    return ack.message()


async def _welcome(state, judge: Judge) -> dict:  # type: ignore[no-untyped-def]
    async with state.session_factory() as db:
        item_ids = list((await db.execute(select(JudgeAssignment.item_id).where(JudgeAssignment.person_id == judge.person_id))).scalars())
        marks = await judge_marks(db, judge.person_id, item_ids)
    return {"type": "welcome", "items": item_ids, "marks": marks}


@websocket("/ws/board/{competition_id:int}", opt=EVERYONE)
async def board_socket(socket: WebSocket, competition_id: int) -> None:
    """Public: what a board shows is public by construction (names only after the reveal)."""
    if not await _accept(socket):
        return
    hub = socket.app.state.hub
    hub.ensure_started()
    hub.boards[competition_id].add(socket)
    try:
        while True:
            try:
                payload = json.loads(await socket.receive_text())
            except (ValueError, TypeError):
                continue
            if isinstance(payload, dict) and payload.get("type") == "hello":
                await socket.send_json(await hub.snapshot(competition_id, _known_seqs(payload.get("seqs"))))
    except WebSocketDisconnect:
        pass
    finally:
        hub.boards[competition_id].discard(socket)


def _known_seqs(raw: object) -> dict[int, int]:
    """The board's {item_id: seq}; anything malformed is ignored (it then gets a full snapshot)."""
    known = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            try:
                known[int(key)] = int(value)
            except (TypeError, ValueError):
                continue
    return known


@websocket("/ws/console/{item_id:int}", opt=CONSOLE)
async def console_socket(socket: WebSocket, item_id: int) -> None:
    """The chief judge's console listens for "changed" and re-fetches its matrix."""
    if not await _accept(socket):
        return
    hub = socket.app.state.hub
    hub.ensure_started()
    hub.consoles[item_id].add(socket)
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        hub.consoles[item_id].discard(socket)


SOCKET_HANDLERS = [judge_socket, board_socket, console_socket]
