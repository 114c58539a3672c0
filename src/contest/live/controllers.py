"""Live pages: the judge's tablet, the chief judge's console, the big-screen board, judge links."""

from __future__ import annotations

import re
from typing import Any

import segno
from litestar import Controller, Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Response, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.sessions import session_cookie
from contest.audit.service import Actor, head_at
from contest.db.models import ConflictOverride, Entry
from contest.domain import limits
from contest.domain.competition import ITEM_STATUSES
from contest.domain.lifecycle import NAMES_VISIBLE, SCORING
from contest.domain.roles import CHIEF_JUDGE, ORGANIZER, PANEL_ROLES
from contest.domain.scheme import plain
from contest.domain.text import N_, Text, message_of
from contest.errors import ContestError, Invalid, NotFound
from contest.events import service as events
from contest.live import actions, links
from contest.live.console import console_view, panel_devices
from contest.live.offline import service_worker, tablet_version
from contest.results import service as results_service
from contest.standings import AWARD_LABELS
from contest.web import fields
from contest.web.caching import PUBLIC_CACHE, public_route_opt
from contest.web.flash import saved
from contest.web.forms import FormState, refused
from contest.web.guards import EVERYONE, JUDGES, ORGANIZERS, access
from contest.web.openapi import form_body
from contest.web.pages import render

CONSOLE = access(ORGANIZER, CHIEF_JUDGE)


@get("/tablet", opt=JUDGES)
async def tablet(request: Request, db: AsyncSession) -> Template:
    """Stations and criteria only: a judge never sees names or units (blind scoring). The items
    come in the judge's order of work: open ones first (the tablet opens on the first of them)."""
    person_id = request.user.person_id
    items = []
    for assignment in await events.judge_items(db, person_id, roles=PANEL_ROLES):
        item = await events.get_item(db, assignment.item_id)
        matrix = await events.conflict_matrix(db, item.id)
        overrides = set(
            (
                await db.execute(
                    select(ConflictOverride.entry_id).where(
                        ConflictOverride.item_id == item.id, ConflictOverride.judge_person_id == person_id
                    )
                )
            ).scalars()
        )
        blocked = {entry_id for entry_id in matrix.get(assignment.id, {}) if entry_id not in overrides}
        entries = (await db.execute(select(Entry.id, Entry.station_no).where(Entry.item_id == item.id).order_by(Entry.station_no))).all()
        items.append(
            {
                "id": item.id,
                "name": item.name,
                "competition": item.competition.name,
                "status": item.status,
                "seat": assignment.seat,
                "stations": [{"no": no, "blocked": entry_id in blocked} for entry_id, no in entries if no is not None],
                "criteria": [
                    {
                        "id": k.id,
                        "code": k.code,
                        "name": k.name,
                        "component": c.name,
                        "max": plain(k.max_mark),
                        "step": plain(k.step),
                        "kind": k.kind,
                        "worldskills": k.aggregation == "worldskills",
                    }
                    for c in item.components
                    for k in c.criteria
                ],
            }
        )
    items.sort(key=lambda i: (i["status"] != SCORING, i["id"]))
    config = {"judge": request.user.username, "items": items, "app_version": tablet_version()}
    return render("live/tablet.html", items=items, config=config)


@get("/tablet-sw.js", opt=EVERYONE, include_in_schema=False)
async def tablet_service_worker() -> Response:
    """The tablet's service worker (live/offline.py), at the root so that its scope covers /tablet.
    Revalidated on every check, so a new version reaches the tablets as soon as they are online."""
    return Response(service_worker(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})


class ConsoleController(Controller):
    """The chief judge's console for one item (the organizer may watch it too)."""

    path = "/chief/items/{item_id:int}"
    opt = CONSOLE

    async def _check(self, request: Request, db: AsyncSession, item_id: int) -> None:
        user = request.user
        if user.role != ORGANIZER and not await events.is_chief_of(db, item_id, user.person_id):
            raise PermissionDeniedException(N_("您不是该赛项的裁判长"))

    async def _context(self, request: Request, db: AsyncSession, item_id: int) -> dict[str, Any]:
        return await _console_context(request, db, item_id)

    async def _act(self, request: Request, db: AsyncSession, item_id: int, action: Any, form_id: str = "", form: Any = None) -> Any:
        """Run a write; a refusal shows the console again with the messages (and, for ``form_id``,
        what was typed with each message beside its field); a write says so once."""
        await self._check(request, db, item_id)
        try:
            competition_id = await action()
        except ContestError as exc:
            await db.rollback()
            return await _refused_console(request, db, item_id, exc, form_id, form)
        item = await events.get_item(db, item_id)
        request.app.state.hub.notify(competition_id, item_id, item.seq)
        return saved(request, f"/chief/items/{item_id}", N_("已保存"))

    @get("/")
    async def show(self, request: Request, db: AsyncSession, item_id: int) -> Template:
        await self._check(request, db, item_id)
        return render("live/console.html", **await self._context(request, db, item_id))

    @get("/matrix")
    async def matrix(self, request: Request, db: AsyncSession, item_id: int) -> Template:
        """The live part of the console: why it cannot be locked yet, judge agreement, the matrix."""
        await self._check(request, db, item_id)
        return render("live/_live.html", **await self._context(request, db, item_id))

    @get("/devices")
    async def devices(self, request: Request, db: AsyncSession, item_id: int) -> Template:
        """The panel's tablets (refreshed every few seconds, and on every change)."""
        await self._check(request, db, item_id)
        devices = await panel_devices(db, item_id, request.app.state.settings, tablet_version())
        return render("live/_devices.html", devices=devices, silent_after=request.app.state.settings.device_silent_seconds)

    @post("/open")
    async def open(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        return await self._act(request, db, item_id, lambda: actions.open_scoring(db, actor, item_id))

    @post("/lock")
    async def lock(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        # The signature is the signed-in account, with the time (recorded by actions.lock); the page
        # asks for a confirmation before it posts.
        return await self._act(request, db, item_id, lambda: actions.lock(db, actor, item_id, request.user.display_name))

    @post("/reveal")
    async def reveal(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        return await self._act(request, db, item_id, lambda: actions.reveal(db, actor, item_id))

    @post("/reopen", **form_body(reason=limits.REASON))
    async def reopen(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()
        return await self._act(request, db, item_id, lambda: actions.reopen(db, actor, item_id, fields.raw(form, "reason")), "reopen", form)

    @post("/override", **form_body(seat=int, station=int, reason=limits.REASON))
    async def override(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> int:
            seat, station = _ints(form, "seat", "station")
            return await actions.override_conflict(db, actor, item_id, seat, station, fields.raw(form, "reason"))

        return await self._act(request, db, item_id, action, "override", form)

    @post("/time", **form_body(station=int, time=limits.DURATION))
    async def time(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> int:
            (station,) = _ints(form, "station")
            return await actions.set_practical_time(db, actor, item_id, station, _seconds(fields.raw(form, "time")))

        return await self._act(request, db, item_id, action, "practical-time", form)


async def _console_context(request: Request, db: AsyncSession, item_id: int, posted: FormState | None = None) -> dict[str, Any]:
    view = await console_view(db, item_id, request.app.state.settings, tablet_version())
    results = view["results"]
    return {
        **view,
        "item": results.item,
        "criteria": [k for c in results.rules for k in c.criteria],
        "names_visible": results.item.status in NAMES_VISIBLE,
        "awards": AWARD_LABELS,
        "errors": [],
        "posted": posted,
        # The audit chain as the lock left it, printed with the signature (docs/security.md).
        "lock_head": await head_at(db, "item.lock", "item", item_id) if results.item.locked_at else None,
    }


async def _refused_console(request: Request, db: AsyncSession, item_id: int, exc: ContestError, form_id: str, form: Any) -> Template:
    """The console again after a refused form: the messages on top, and for ``form_id`` what was
    typed with each message beside its field (the page keeps its place: nothing is lost)."""
    context = await _console_context(request, db, item_id, refused(form_id, form, exc) if form_id else None)
    context["errors"] = [exc.message, *exc.details]
    return render("live/console.html", exc.status_code, **context)


def _ints(form: Any, *names: str) -> list[int]:
    labels = {"seat": N_("席位号"), "station": N_("工位号")}
    numbers = []
    for name in names:
        try:
            numbers.append(fields.parse_int(fields.raw(form, name), labels.get(name, name), 1))
        except ValueError as exc:
            raise Invalid(message_of(exc), field=name) from None
    return numbers


def _seconds(text: str) -> int | None:
    """'1:23:45', '83:20' or '5000' (seconds); blank clears the time."""
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,6}(:[0-9]{1,2}){0,2}", text):
        raise Invalid(Text("用时「{text}」格式不正确,应为 时:分:秒、分:秒 或 秒数", text=text[:20]), field="time")
    parts = [int(p) for p in text.split(":")]
    if len(parts) > 3 or any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
        raise Invalid(Text("用时「{text}」格式不正确,应为 时:分:秒、分:秒 或 秒数", text=text), field="time")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


class ItemResultsController(Controller):
    """The organizer's part of the lifecycle: publish, and break ties on no-ties items."""

    path = "/items/{item_id:int}"
    opt = ORGANIZERS

    @post("/publish")
    async def publish(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Redirect:
        competition_id = await results_service.publish(db, actor, item_id)
        item = await events.get_item(db, item_id)
        request.app.state.hub.notify(competition_id, item_id, item.seq)
        return saved(request, f"/chief/items/{item_id}", N_("已公示"))

    @post("/tie", **form_body(stations=limits.CODE_LIST, reason=limits.REASON))
    async def tie(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()
        try:
            raw = fields.raw(form, "stations")[: limits.CODE_LIST.max]
            words = raw.replace(",", " ").replace("、", " ").replace(",", " ").split()
            try:
                stations = [fields.parse_int(s, N_("工位号"), 1) for s in words]
            except ValueError as exc:
                raise Invalid(Text("请按名次先后填写工位号,用空格分隔:{exc}", exc=message_of(exc)), field="stations") from None
            competition_id = await actions.decide_tie(db, actor, item_id, stations, fields.raw(form, "reason"))
        except ContestError as exc:
            await db.rollback()
            return await _refused_console(request, db, item_id, exc, "tie", form)
        item = await events.get_item(db, item_id)
        request.app.state.hub.notify(competition_id, item_id, item.seq)
        return saved(request, f"/chief/items/{item_id}", N_("已确定名次"))


@get("/board/{competition_id:int}", opt=public_route_opt(EVERYONE), middleware=[PUBLIC_CACHE])
async def board(db: AsyncSession, competition_id: int) -> Template:
    competition = await events.get_competition(db, competition_id)
    # The fragments are built once for every viewer, in Chinese: the page translates their labels.
    labels = [*ITEM_STATUSES.values(), *AWARD_LABELS.values()]
    return render("live/board.html", competition=competition, board_labels=labels)


@get("/board/{competition_id:int}/snapshot", opt=public_route_opt(EVERYONE), middleware=[PUBLIC_CACHE])
async def board_snapshot(request: Request, competition_id: int) -> dict[str, Any]:
    """The board as JSON over cacheable HTTP (the websocket's snapshot message, every item): for
    viewers that poll through a reverse proxy or a CDN instead of holding a websocket."""
    hub = request.app.state.hub
    hub.ensure_started()  # hear of changes, so the shared snapshot is not kept past one (SNAPSHOT_TTL at most)
    snapshot = await hub.snapshot(competition_id)
    if snapshot["type"] == "error":
        raise NotFound(Text("赛事 {competition_id} 不存在", competition_id=competition_id))
    return snapshot


@post("/competitions/{competition_id:int}/judge-links", opt=ORGANIZERS)
async def judge_links(request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Template:
    competition = await events.get_competition(db, competition_id)
    base = str(request.base_url).rstrip("/")
    issued = [
        {"person": person, "user": user, "url": f"{base}/j/{token}", "qr": segno.make(f"{base}/j/{token}").svg_data_uri(scale=4)}
        for person, user, token in await links.issue_links(db, actor, competition_id)
    ]
    return render("live/judge_links.html", competition=competition, links=issued, days=links.LINK_DAYS)


@get("/j/{token:str}", opt=EVERYONE)
async def link_sign_in(request: Request, db: AsyncSession, token: str) -> Redirect:
    settings = request.app.state.settings
    _, session_token = await links.sign_in_with_link(db, token, request.headers.get("user-agent", ""), settings.session_days)
    return Redirect("/tablet", cookies=[session_cookie(settings, session_token)])


LIVE_HANDLERS: list[ControllerRouterHandler] = [
    tablet,
    tablet_service_worker,
    ConsoleController,
    ItemResultsController,
    board,
    board_snapshot,
    judge_links,
    link_sign_in,
]
