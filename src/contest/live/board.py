"""What boards show: per item progress, a provisional ranking by 工位号 if the organizer turned it
on, names only after the reveal. Built once per change and sent to every viewer."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import Competition, Component, Criterion, Entry, Item, Mark
from contest.domain.competition import ITEM_STATUSES
from contest.domain.lifecycle import NAMES_VISIBLE
from contest.errors import Invalid
from contest.standings import AWARD_LABELS, item_results


async def fragments_for(db: AsyncSession, item_ids: list[int], show_provisional: bool) -> list[dict]:
    """Board fragments of these items, in the given order.

    Items that show no ranking (no provisional ranking, names not yet revealed) need only their
    progress: that is three grouped queries for all of them, instead of scoring every entry of
    every changed item on each flush, which is what kept a busy hall's event loop saturated.
    """
    items = {item.id: item for item in (await db.execute(select(Item).where(Item.id.in_(item_ids)))).scalars()}
    ranked = [i for i in item_ids if i in items and (show_provisional or items[i].status in NAMES_VISIBLE)]
    progress = await _progress(db, [i for i in item_ids if i in items and i not in ranked])
    built = {item_id: {**_header(items[item_id]), **counts, "revealed": False, "ranking": None} for item_id, counts in progress.items()}
    for item_id in ranked:
        built[item_id] = await item_fragment(db, item_id, show_provisional)
    return [built[i] for i in item_ids if i in built]


async def _progress(db: AsyncSession, item_ids: list[int]) -> dict[int, dict[str, int]]:
    """Marks stored and expected per item (a measurement criterion expects 1 mark, a judgement its panel)."""
    if not item_ids:
        return {}
    stored = dict((await db.execute(select(Mark.item_id, func.count()).where(Mark.item_id.in_(item_ids)).group_by(Mark.item_id))).all())
    entries = dict((await db.execute(select(Entry.item_id, func.count()).where(Entry.item_id.in_(item_ids)).group_by(Entry.item_id))).all())
    per_entry = dict(
        (
            await db.execute(
                select(Component.item_id, func.sum(case((Criterion.kind == "measurement", 1), else_=Criterion.panel_size)))
                .join(Criterion, Criterion.component_id == Component.id)
                .where(Component.item_id.in_(item_ids))
                .group_by(Component.item_id)
            )
        ).all()
    )
    return {i: {"stored": stored.get(i, 0), "expected": entries.get(i, 0) * int(per_entry.get(i) or 0)} for i in item_ids}


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
