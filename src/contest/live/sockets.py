"""Websocket endpoints: the judge's tablet, the boards, the chief judge's console.

No request-scoped DB session here (it would live as long as the connection): a mark goes to the
process's mark writer (live/writer.py), every other message opens its own short session. CSRF does
not cover websockets, so the Origin is checked on accept.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlparse

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy import and_, case, func, select

from contest import metrics
from contest.db.models import Criterion, Entry, Item, JudgeAssignment, Mark
from contest.domain.roles import CHIEF_JUDGE, ORGANIZER
from contest.events.service import is_chief_of
from contest.i18n import pick_language, translate
from contest.live import protocol
from contest.live.protocol import ERRORS, JUDGE_TYPES, ProtocolError
from contest.live.service import Judge, MarkRefused, judge_marks
from contest.web.guards import EVERYONE, JUDGES, access

CONSOLE = access(CHIEF_JUDGE, ORGANIZER)

log = logging.getLogger("contest.live")

# Close codes (docs/live.md, "Close codes"). 4403 and 4404 are final: the clients show why and stop
# reconnecting; anything else is a network matter and they reconnect with back-off.
POLICY_VIOLATION = 1008  # a foreign Origin, before the socket is accepted
SERVER_UNAVAILABLE = 1011  # the server could not answer a hello (its database is away): reconnect later
CLOSE_FORBIDDEN = 4403  # this account may not use this socket (not a judge; not this item's chief judge)
CLOSE_UNKNOWN = 4404  # the console's item does not exist


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
    metrics.ERRORS.labels(code).inc()
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
    # Refusals are worded in the judge's language, as the pages are (the lang cookie, else the
    # browser's Accept-Language); Chinese by default and for clients that say nothing.
    language = pick_language(socket.cookies.get("lang"), socket.headers.get("accept-language"))
    if user.person_id is None:
        await _refuse_after_hello(socket, language)
        return
    user_agent = socket.headers.get("user-agent", "")[:120]  # a header, informational: shortened, not refused
    judge = Judge(user.id, user.username, user.person_id, user_agent)
    hub = state.hub
    hub.ensure_started()
    connection = hub.devices.open(user.id, user.person_id, user_agent)
    metrics.TABLETS.inc()
    try:
        while True:
            text = await socket.receive_text()
            hub.devices.heard(connection)
            payload: dict = {}
            try:
                payload = protocol.decode(text)
                kind = protocol.message_type(payload, JUDGE_TYPES)
                if kind == "mark":
                    with metrics.ACK_SECONDS.time():
                        reply = await _store(state, judge, payload)
                elif kind == "hello":
                    judge = _report(hub, connection, judge, protocol.parse_status(payload), user_agent)
                    try:
                        reply = await _welcome(state, judge)
                    except Exception:  # the database is away: the tablet reconnects later, with back-off
                        log.exception("welcoming a tablet failed")
                        await socket.close(code=SERVER_UNAVAILABLE, reason="try_again_later")
                        return
                    hub.watch(socket, judge.person_id, reply["items"])
                else:  # ping, with the tablet's status: the same fields as hello, the same effect
                    judge = _report(hub, connection, judge, protocol.parse_status(payload), user_agent)
                    reply = {"type": "pong"}
            except ProtocolError as refused:
                reply = _error(refused.code, refused.message, protocol.client_id_of(payload))
            if reply["type"] == "error":
                reply["message"] = translate(reply["message"], language)
            await socket.send_json(reply)
    except WebSocketDisconnect:
        return
    finally:
        metrics.TABLETS.dec()
        hub.unwatch(socket)
        hub.devices.close(connection)


def _report(hub, connection, judge: Judge, status: protocol.Status, user_agent: str) -> Judge:
    """A hello's or a ping's status: the console's record of the tablet (devices.py) and, if it names
    the device, the device written in the audit records of this connection's marks from now on."""
    hub.devices.report(connection, status)
    return replace(judge, device=f"{status.device} {user_agent}") if status.device else judge


async def _refuse_after_hello(socket: WebSocket, language: str) -> None:
    """A signed-in judge account that is not linked to a person: answer the client's first message
    (its hello) with not_a_judge, then close with CLOSE_FORBIDDEN, which the tablet takes as final."""
    try:
        await socket.receive_text()
        refusal = _error("not_a_judge", protocol.NO_PERSON)
        await socket.send_json({**refusal, "message": translate(refusal["message"], language)})
        await socket.close(code=CLOSE_FORBIDDEN, reason="not_a_judge")
    except WebSocketDisconnect:
        return


async def _store(state, judge: Judge, payload: dict) -> dict:
    mark = protocol.parse_mark(payload)  # ProtocolError: refused before it is queued
    try:
        outcome = await state.mark_writer.submit(judge, mark)
    except Exception:  # noqa: BLE001 - logged by the writer; the tablet keeps the mark and resends it
        return _error("server_error", None, mark.client_id)
    if isinstance(outcome, MarkRefused):
        return _error(outcome.code, outcome.message, mark.client_id)
    ack, competition_id = outcome
    if competition_id is not None:
        taken = (ack.station, ack.criterion_id, judge.person_id) if ack.fills_cell else None
        state.hub.notify(competition_id, ack.item_id, ack.seq, taken)
    return ack.message()


async def _welcome(state, judge: Judge) -> dict:
    async with state.session_factory() as db:
        item_ids = list((await db.execute(select(JudgeAssignment.item_id).where(JudgeAssignment.person_id == judge.person_id))).scalars())
        marks = await judge_marks(db, judge.person_id, item_ids)
        taken = await taken_cells(db, judge.person_id, item_ids)
    return {"type": "welcome", "items": item_ids, "marks": marks, "taken": taken}


async def taken_cells(db, person_id: int, item_ids: list[int]) -> list[dict]:
    """Cells of these items that other panel members have filled and this judge has no mark in: a
    measurement with its one mark, a judgement criterion with its full panel. Who filled them is not said."""
    if not item_ids:
        return []
    own = func.sum(case((Mark.judge_person_id == person_id, 1), else_=0))
    rows = await db.execute(
        select(Mark.item_id, Entry.station_no, Mark.criterion_id)
        .join(Entry, Entry.id == Mark.entry_id)
        .join(Criterion, Criterion.id == Mark.criterion_id)
        .where(Mark.item_id.in_(item_ids))
        .group_by(Mark.item_id, Entry.station_no, Mark.criterion_id, Criterion.kind, Criterion.panel_size)
        .having(and_(own == 0, (Criterion.kind == "measurement") | (func.count() >= Criterion.panel_size)))
    )
    return [{"item_id": item_id, "station": station, "criterion_id": criterion_id} for item_id, station, criterion_id in rows.all()]


@websocket("/ws/board/{competition_id:int}", opt=EVERYONE)
async def board_socket(socket: WebSocket, competition_id: int) -> None:
    """Public: what a board shows is public by construction (names only after the reveal).
    A board only ever says hello; anything else, or anything malformed, is ignored."""
    if not await _accept(socket):
        return
    hub = socket.app.state.hub
    hub.ensure_started()
    hub.boards[competition_id].add(socket)
    metrics.BOARDS.inc()
    try:
        while True:
            text = await socket.receive_text()
            try:
                payload = protocol.decode(text)
            except ProtocolError:
                continue
            if payload.get("type") == "hello":
                await socket.send_json(await hub.snapshot(competition_id, _known_seqs(payload.get("seqs"))))
    except WebSocketDisconnect:
        pass
    finally:
        hub.boards[competition_id].discard(socket)
        metrics.BOARDS.dec()


def _known_seqs(raw: object) -> dict[int, int]:
    """The board's {item_id: seq}; malformed pairs are ignored (those items then come in full)."""
    known = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(key, str) and key.isascii() and key.isdigit() and type(value) is int:
                known[int(key)] = value
    return known


@websocket("/ws/console/{item_id:int}", opt=CONSOLE)
async def console_socket(socket: WebSocket, item_id: int) -> None:
    """The chief judge's console is told "watching" once admitted, then listens for "changed" and
    re-fetches its panels. Open to the
    item's own chief judge and to organizers: any other account is closed with CLOSE_FORBIDDEN."""
    if not await _accept(socket):
        return
    user = socket.scope["user"]
    async with socket.app.state.session_factory() as db:
        exists = (await db.execute(select(Item.id).where(Item.id == item_id))).first() is not None
        allowed = exists and (user.role == ORGANIZER or await is_chief_of(db, item_id, user.person_id))
    if not allowed:
        await socket.close(code=CLOSE_FORBIDDEN if exists else CLOSE_UNKNOWN, reason="not_chief_of_item" if exists else "unknown_item")
        return
    hub = socket.app.state.hub
    hub.ensure_started()
    hub.consoles[item_id].add(socket)
    try:
        await socket.send_json({"type": "watching", "item_id": item_id})  # admitted: the console resets its back-off
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        hub.consoles[item_id].discard(socket)


SOCKET_HANDLERS = [judge_socket, board_socket, console_socket]
