"""Results desk (organizer and arbitration group): versions, appeals, finalisation."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, chain_head
from contest.db.models import utcnow
from contest.domain import allowed, limits
from contest.domain.lifecycle import ItemStatus
from contest.domain.results import appeal_deadline
from contest.domain.roles import CHIEF_JUDGE, ORGANIZER
from contest.domain.text import N_
from contest.errors import ContestError, FormInvalid
from contest.events.service import get_item, is_chief_of
from contest.papers import cache
from contest.results import papers, service
from contest.web import fields
from contest.web.caching import PUBLIC_CACHE, public_route_opt
from contest.web.flash import saved
from contest.web.forms import FormState, refused
from contest.web.guards import EVERYONE, ORGANIZERS, access
from contest.web.openapi import form_body
from contest.web.pages import render


class ResultsController(Controller):
    path = "/items/{item_id:int}/results"
    opt = ORGANIZERS

    async def _page(
        self, db: AsyncSession, item_id: int, errors: list[str] | None = None, status: int = 200, posted: FormState | None = None
    ) -> Template:
        item = await get_item(db, item_id)
        deadline = appeal_deadline(item.published_at, item.competition.appeal_hours) if item.published_at else None
        pending = await service.pending_appeals(db, item_id)
        context = {
            "item": item,
            "finalize_refusal": allowed.finalize(item.status, utcnow(), item.published_at, item.competition.appeal_hours, pending),
            "versions": list(reversed(await service.versions(db, item_id))),
            "appeals": await service.appeals_of(db, item_id),
            "decisions": service.APPEAL_DECISIONS,
            "deadline": deadline,
            "stations": await service.drawn_stations(db, item_id) if item.status == ItemStatus.PUBLISHED else {},
            "audit_head": await chain_head(db),  # a checkpoint anyone can copy down (docs/security.md)
            "errors": errors or [],
            "posted": posted,
        }
        return render("results/item.html", status, **context)

    async def _act(
        self, request: Request, db: AsyncSession, item_id: int, action: Any, done: str = "已保存", form_id: str = "", form: Any = None
    ) -> Any:
        """Run a write; a refusal shows the page again with the messages (and, for ``form_id``,
        what was typed with each message beside its field); a write says so once (``done``)."""
        try:
            competition_id = await action()
        except ContestError as exc:
            await db.rollback()
            posted = refused(form_id, form, exc) if form_id else None
            return await self._page(db, item_id, [exc.message, *exc.details], exc.status_code, posted)
        if isinstance(competition_id, int):
            item = await get_item(db, item_id)
            request.app.state.hub.notify(competition_id, item_id, item.seq)
        return saved(request, f"/items/{item_id}/results", done)

    @get("/")
    async def show(self, db: AsyncSession, item_id: int) -> Template:
        return await self._page(db, item_id)

    @post("/appeals", **form_body(station=int, appellant=limits.APPELLANT, content=limits.APPEAL_TEXT))
    async def record_appeal(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            errors: dict[str, str] = {}
            station = fields.integer(form, "station", N_("工位号"), errors, minimum=1)
            if errors:
                raise FormInvalid("申诉信息有误", errors)
            await service.record_appeal(db, actor, item_id, station, fields.raw(form, "appellant"), fields.raw(form, "content"))

        return await self._act(request, db, item_id, action, N_("已登记申诉"), "new-appeal", form)

    @post("/appeals/{appeal_id:int}", **form_body(status=list(service.APPEAL_DECISIONS), decision=limits.DECISION_TEXT))
    async def decide(self, request: Request, db: AsyncSession, actor: Actor, item_id: int, appeal_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            await service.decide_appeal(db, actor, item_id, appeal_id, fields.raw(form, "status"), fields.raw(form, "decision"))

        return await self._act(request, db, item_id, action, N_("已保存仲裁结论"), f"decide-appeal-{appeal_id}", form)

    @post("/finalize")
    async def finalize(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        return await self._act(request, db, item_id, lambda: service.finalize(db, actor, item_id), N_("已确认最终成绩"))


# ---------------------------------------------------------------- papers (docs/papers.md)


async def _pdf(request: Request, paper: papers.Paper, title: str) -> Response:
    """The paper's PDF, kept under <var dir>/papers by what it prints (contest.papers.cache)."""
    content = await cache.render_cached(request.app.state.settings.var_dir / "papers", paper.template, paper.context)
    disposition = f"inline; filename=\"{paper.filename}\"; filename*=UTF-8''{quote(title + '.pdf')}"
    # The public sheets' routes pass through PUBLIC_CACHE: an anonymous reader's copy becomes public,
    # with an ETag, and a revalidation that matches it gets a 304.
    headers = {"Content-Disposition": disposition, "Cache-Control": "private, no-store"}
    return Response(content, media_type="application/pdf", headers=headers)


class PapersController(Controller):
    """Print-ready PDFs: the 成绩公示表 of published results is public (it is posted on the wall);
    the 评分汇总表 and the lock record are for the organizer and the item's chief judge."""

    path = "/"

    @get("/items/{item_id:int}/papers/results-sheet.pdf", opt=public_route_opt(EVERYONE), middleware=[PUBLIC_CACHE])
    async def item_results_sheet(self, request: Request, db: AsyncSession, item_id: int) -> Response:
        item = await get_item(db, item_id)
        paper = await papers.results_sheet(db, item.competition_id, item_id)
        return await _pdf(request, paper, f"成绩公示表-{item.competition.name}-{item.name}")

    @get("/competitions/{competition_id:int}/papers/results-sheet.pdf", opt=public_route_opt(EVERYONE), middleware=[PUBLIC_CACHE])
    async def competition_results_sheet(self, request: Request, db: AsyncSession, competition_id: int) -> Response:
        paper = await papers.results_sheet(db, competition_id)
        return await _pdf(request, paper, f"成绩公示表-{paper.context['competition']['name']}")

    @get("/items/{item_id:int}/papers/score-sheet.pdf", opt=access(ORGANIZER, CHIEF_JUDGE))
    async def score_sheet(self, request: Request, db: AsyncSession, item_id: int) -> Response:
        await _organizer_or_chief(request, db, item_id)
        item = await get_item(db, item_id)
        return await _pdf(request, await papers.score_sheet(db, item_id), f"评分汇总表-{item.name}")

    @get("/items/{item_id:int}/papers/lock-record.pdf", opt=access(ORGANIZER, CHIEF_JUDGE))
    async def lock_record(self, request: Request, db: AsyncSession, item_id: int) -> Response:
        await _organizer_or_chief(request, db, item_id)
        item = await get_item(db, item_id)
        return await _pdf(request, await papers.lock_record(db, item_id), f"锁定记录-{item.name}")


async def _organizer_or_chief(request: Request, db: AsyncSession, item_id: int) -> None:
    user = request.user
    if user.role != ORGANIZER and not await is_chief_of(db, item_id, user.person_id):
        raise PermissionDeniedException(N_("您不是该赛项的裁判长"))
