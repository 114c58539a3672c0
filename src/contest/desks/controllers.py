"""Role desks. Live scoring and payouts build on these pages in their own issues."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import utcnow
from contest.domain.lifecycle import PUBLIC_RESULTS
from contest.domain.results import changes_by_entry, publicity
from contest.domain.roles import CHIEF_JUDGE
from contest.events import service
from contest.results.service import versions
from contest.web.caching import PUBLIC_CACHE, public_route_opt
from contest.web.guards import CHIEF_JUDGES, EVERYONE, JUDGES
from contest.web.pages import render


@get("/judge", opt=JUDGES)
async def judge_desk(request: Request, db: AsyncSession) -> Template:
    """A judge sees assigned items and 工位号 only: never names or units (blind scoring)."""
    assignments = await service.judge_items(db, request.user.person_id)
    stations = {}
    for assignment in assignments:
        entries = await service.item_entries(db, assignment.item_id)
        stations[assignment.item_id] = [e.station_no for e in entries if e.station_no is not None]
    return render("desks/judge.html", assignments=assignments, stations=stations)


@get("/chief", opt=CHIEF_JUDGES)
async def chief_desk(request: Request, db: AsyncSession) -> Template:
    assignments = await service.judge_items(db, request.user.person_id, roles=(CHIEF_JUDGE,))
    panels = {}
    for assignment in assignments:
        judges = await service.item_judges(db, assignment.item_id)
        matrix = await service.conflict_matrix(db, assignment.item_id)
        entries = {e.id: e for e in await service.item_entries(db, assignment.item_id)}
        panels[assignment.item_id] = {"judges": judges, "conflicts": matrix, "entries": entries}
    return render("desks/chief.html", assignments=assignments, panels=panels)


@get("/public/competitions/{competition_id:int}", opt=public_route_opt(EVERYONE), middleware=[PUBLIC_CACHE])
async def public_competition(db: AsyncSession, competition_id: int, q: str = "") -> Template:
    """Public: the published version (公示) of each item's results, searchable by name or 工位号.

    Rows hold names, units, places and awards only: never ID numbers. Each item states its
    公示期 and appeal deadline, and a revision (v2 after an appeal) what changed, entry by entry.
    """
    competition = await service.get_competition(db, competition_id)
    counts = await service.entry_counts(db, competition_id)
    published = {}
    now = utcnow()
    for item in competition.items:
        if item.status in PUBLIC_RESULTS:
            history = await versions(db, item.id)
            if history:
                latest = history[-1]
                rows = [row for row in latest.rows if _matches(row, q.strip())]
                published[item.id] = {
                    "version": latest,
                    "rows": rows,
                    "publicity": publicity(item.published_at or latest.published_at, competition.appeal_hours, now),
                    "changes": changes_by_entry(latest.changes or [], latest.rows) if latest.version > 1 else [],
                    "first_published": history[0].published_at,
                }
    context: dict[str, Any] = {"competition": competition, "counts": counts, "published": published, "q": q}
    return render("desks/public_competition.html", **context)


def _matches(row: dict, query: str) -> bool:
    if not query:
        return True
    return query in (row.get("names") or "") or query == str(row.get("station"))


DESK_HANDLERS = [judge_desk, chief_desk, public_competition]  # /finance: contest.payouts.controllers
