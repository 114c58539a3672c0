"""What boards show: per item progress, a provisional ranking by 工位号 if the organizer turned it
on, names only after the reveal. Built once per change and sent to every viewer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import Competition, Item
from contest.domain.competition import ITEM_STATUSES
from contest.domain.lifecycle import NAMES_VISIBLE
from contest.errors import Invalid
from contest.live.scores import item_results

AWARD_LABELS = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "excellence": "优胜奖"}


async def item_fragment(db: AsyncSession, item_id: int, show_provisional: bool) -> dict:
    try:
        results = await item_results(db, item_id)
    except Invalid:  # an item still being set up: listed, with nothing to show yet
        item = await db.get(Item, item_id)
        assert item is not None
        return {**_header(item), "stored": 0, "expected": 0, "revealed": False, "ranking": None}
    item = results.item
    names = item.status in NAMES_VISIBLE
    ranking = None
    if names or show_provisional:
        ranking = []
        for row in results.rows:
            line = {
                "place": row.ranked.place,
                "station": row.entry.station_no,
                "total": None if row.score.total is None else f"{row.score.total:.2f}",
                "award": AWARD_LABELS.get(row.ranked.award or "", "") if names else "",
            }
            if names:
                line["name"] = row.entry.team_name or "、".join(m.person.name for m in row.entry.members)
                line["unit"] = row.entry.unit.name
            ranking.append(line)
    return {**_header(item), "stored": results.stored, "expected": results.expected, "revealed": names, "ranking": ranking}


def _header(item: Item) -> dict:
    return {
        "item_id": item.id,
        "name": item.name,
        "status": item.status,
        "status_label": ITEM_STATUSES.get(item.status, item.status),
        "seq": item.seq,
    }


async def competition_items(db: AsyncSession, competition_id: int) -> tuple[Competition | None, dict[int, int]]:
    """The competition and the current sequence number of each of its items."""
    competition = await db.get(Competition, competition_id)
    rows = await db.execute(select(Item.id, Item.seq).where(Item.competition_id == competition_id).order_by(Item.id))
    return competition, dict(rows.all())
