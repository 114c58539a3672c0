"""Organizer pages for importing rosters and judges from .xlsx, and the template downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor
from contest.errors import ContestError
from contest.events.service import get_competition
from contest.rosters import service
from contest.rosters.templates import judges_template, roster_template
from contest.web.guards import ORGANIZERS
from contest.web.openapi import FILE, form_body
from contest.web.pages import render
from contest.web.uploads import MAX_BODY_BYTES, receive_file
from contest.xlsx.upload import MAX_FILE_BYTES, TOO_LARGE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _too_large(request: Request, exc: RequestEntityTooLarge) -> Template:
    kind = "judges" if request.url.path.rstrip("/").endswith("/judges") else "roster"
    context = {
        "competition": None,
        "competition_id": request.path_params.get("competition_id"),
        "result": None,
        "kind": kind,
        "message": TOO_LARGE,
    }
    return render("rosters/result.html", 413, **context)


def _download(content: bytes, ascii_name: str, chinese_name: str) -> Response:
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


class RosterController(Controller):
    path = "/competitions/{competition_id:int}/import"
    opt = ORGANIZERS
    exception_handlers = {RequestEntityTooLarge: _too_large}  # noqa: RUF012 - Litestar reads it once

    @get("/")
    async def index(self, db: AsyncSession, competition_id: int) -> Template:
        competition = await get_competition(db, competition_id)
        return render("rosters/index.html", competition=competition, max_mb=MAX_FILE_BYTES // 1024 // 1024)

    async def _import(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int, kind: str) -> Template:
        competition = await get_competition(db, competition_id)
        # Plain values: a rollback below expires ORM objects, and templates must not lazy-load.
        shown = {"id": competition.id, "name": competition.name}
        context: dict[str, Any] = {"competition": shown, "competition_id": competition_id, "kind": kind, "result": None, "message": ""}
        run = service.import_roster if kind == "roster" else service.import_judges
        try:
            filename, content = await receive_file(request)
            result = await run(db, actor, competition_id, filename, content)
        except ContestError as exc:
            await db.rollback()
            context["message"] = exc.message
            return render("rosters/result.html", exc.status_code, **context)
        context["result"] = result
        return render("rosters/result.html", 200 if result.ok else 422, **context)

    @post("/roster", request_max_body_size=MAX_BODY_BYTES, **form_body(file=FILE))
    async def import_roster(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Template:
        return await self._import(request, db, actor, competition_id, "roster")

    @post("/judges", request_max_body_size=MAX_BODY_BYTES, **form_body(file=FILE))
    async def import_judges(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Template:
        return await self._import(request, db, actor, competition_id, "judges")

    @get("/roster-template.xlsx")
    async def roster_template(self, competition_id: int) -> Response:
        return _download(roster_template(), "roster-template.xlsx", "参赛名单导入模板.xlsx")

    @get("/judges-template.xlsx")
    async def judges_template(self, competition_id: int) -> Response:
        return _download(judges_template(), "judges-template.xlsx", "裁判名单导入模板.xlsx")
