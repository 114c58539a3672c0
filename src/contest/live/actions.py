"""The chief judge's and organizer's actions on an item: open, override, time, lock, reveal, publish, reopen.

Each takes the item's next sequence number (so boards and consoles refresh), is audited, and
commits; each returns the competition id to notify.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, record
from contest.db.models import ConflictOverride, Entry, JudgeAssignment, TieDecision, utcnow
from contest.domain.lifecycle import SCORING, SETUP
from contest.domain.limits import REASON
from contest.domain.roles import JUDGE
from contest.domain.scheme import validate_scheme
from contest.domain.text import ENUMERATION, Text, joined
from contest.errors import Conflict, Invalid, NotFound
from contest.events.lifecycle import next_seq, transition
from contest.events.service import get_item, item_judges, scheme_of
from contest.standings import item_results


async def open_scoring(db: AsyncSession, actor: Actor, item_id: int) -> int:
    item = await get_item(db, item_id)
    problems = validate_scheme(scheme_of(item))
    entries = (await db.execute(select(Entry.station_no).where(Entry.item_id == item_id))).scalars().all()
    if not entries:
        problems.append("该赛项还没有参赛单元")
    elif any(station is None for station in entries):
        problems.append("还有参赛单元没有工位号:请先抽签")
    if not any(j.role == JUDGE for j in await item_judges(db, item_id)):
        problems.append("还没有分配裁判")
    if problems:
        raise Invalid("赛项还不能开始评分", details=problems)
    return await transition(db, actor, item, "open", {})


async def lock(db: AsyncSession, actor: Actor, item_id: int, signer: str) -> int:
    """Lock and sign: ``signer`` is the name of the account signing (``actor``), recorded with its id
    and the time."""
    if not signer.strip():
        raise Invalid("锁定需要裁判长签名")
    results = await item_results(db, item_id)
    if not results.complete:
        missing = sum(r.score.missing for r in results.rows)
        raise Conflict(Text("还有 {missing} 个分数未录入,不能锁定", missing=missing), code="incomplete")
    if results.flagged:
        stations = joined(
            [Text("工位 {station} 评分项 {code}", station=r.entry.station_no, code=flag) for r, flag in results.flagged], ENUMERATION
        )
        raise Conflict(Text("评价分分歧超过 1 分,须在裁判长主持下重新评分:{stations}", stations=stations), code="spread")
    if results.needs_decision:
        raise Conflict("排名不并列的赛项存在并列,须由组织方确定名次后才能锁定", code="tie_undecided")
    item = results.item
    item.locked_at, item.locked_by, item.locked_by_user_id = utcnow(), signer.strip(), actor.user_id
    detail = {"signed_by": signer.strip(), "signed_by_user_id": actor.user_id, "signed_by_username": actor.username}
    return await transition(db, actor, item, "lock", detail)


async def reveal(db: AsyncSession, actor: Actor, item_id: int) -> int:
    item = await get_item(db, item_id)
    item.revealed_at = utcnow()
    return await transition(db, actor, item, "reveal", {})


async def reopen(db: AsyncSession, actor: Actor, item_id: int, reason: str) -> int:
    if not reason.strip():
        raise Invalid("重新开放评分必须填写书面理由", field="reason")
    _check_reason(reason)
    item = await get_item(db, item_id)
    item.locked_at, item.locked_by, item.locked_by_user_id, item.revealed_at, item.published_at = None, "", None, None, None
    return await transition(db, actor, item, "reopen", {"reason": reason.strip()})


def _check_reason(reason: str) -> None:
    if problem := REASON.problem(reason.strip()):
        raise Invalid(problem, field="reason")


async def _entry_by_station(db: AsyncSession, item_id: int, station: int, field: str = "station") -> Entry:
    entry = (await db.execute(select(Entry).where(Entry.item_id == item_id, Entry.station_no == station))).scalar_one_or_none()
    if entry is None:
        raise NotFound(Text("工位号 {station} 不存在", station=station), field=field)
    return entry


async def override_conflict(db: AsyncSession, actor: Actor, item_id: int, seat: int, station: int, reason: str) -> int:
    """Let the judge in ``seat`` score ``station`` despite a conflict (the panel fell short)."""
    if not reason.strip():
        raise Invalid("回避豁免必须填写书面理由", field="reason")
    _check_reason(reason)
    item = await get_item(db, item_id)
    judge = (
        await db.execute(select(JudgeAssignment).where(JudgeAssignment.item_id == item_id, JudgeAssignment.seat == seat))
    ).scalar_one_or_none()
    if judge is None:
        raise NotFound(Text("席位 {seat} 没有裁判", seat=seat), field="seat")
    entry = await _entry_by_station(db, item_id, station)
    db.add(
        ConflictOverride(
            item_id=item_id, judge_person_id=judge.person_id, entry_id=entry.id, reason=reason.strip(), created_by=actor.username
        )
    )
    seq = await next_seq(db, item_id)
    await record(db, actor, "conflict.override", "item", item_id, {"seat": seat, "station": station, "reason": reason.strip(), "seq": seq})
    await db.commit()
    return item.competition_id


async def set_practical_time(db: AsyncSession, actor: Actor, item_id: int, station: int, seconds: int | None) -> int:
    item = await get_item(db, item_id)
    if item.status not in (SETUP, SCORING):
        raise Conflict("赛项已锁定,用时不能再修改;如需更正请重新开放评分")
    if seconds is not None and not 0 <= seconds <= 24 * 3600:
        raise Invalid("用时应在 0 到 24 小时之间", field="time")
    entry = await _entry_by_station(db, item_id, station)
    old, entry.practical_seconds = entry.practical_seconds, seconds
    seq = await next_seq(db, item_id)
    await record(db, actor, "entry.time", "entry", entry.id, {"station": station, "old": old, "new": seconds, "seq": seq})
    await db.commit()
    return item.competition_id


async def decide_tie(db: AsyncSession, actor: Actor, item_id: int, stations_in_order: list[int], reason: str) -> int:
    """排名不并列: the organizer orders a tied group (by 工位号), with the reason recorded."""
    if not reason.strip():
        raise Invalid("确定并列名次必须填写理由", field="reason")
    _check_reason(reason)
    if len(stations_in_order) < 2 or len(set(stations_in_order)) != len(stations_in_order):
        raise Invalid("请按名次先后填写至少两个不重复的工位号", field="stations")
    item = await get_item(db, item_id)
    entries = [await _entry_by_station(db, item_id, s, "stations") for s in stations_in_order]
    await db.execute(delete(TieDecision).where(TieDecision.item_id == item_id, TieDecision.entry_id.in_([e.id for e in entries])))
    for position, entry in enumerate(entries, start=1):
        db.add(TieDecision(item_id=item_id, entry_id=entry.id, position=position, reason=reason.strip(), created_by=actor.username))
    seq = await next_seq(db, item_id)
    await record(db, actor, "item.tie_decision", "item", item_id, {"stations": stations_in_order, "reason": reason.strip(), "seq": seq})
    await db.commit()
    return item.competition_id
