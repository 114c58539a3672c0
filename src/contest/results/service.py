"""Result versions, appeals and finalisation. Each write is audited in its transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contest.audit.service import Actor, record
from contest.competitors.certificates import honour_rules, issue_for_version
from contest.db.models import Appeal, AuditRecord, Competition, Entry, EntryMember, Item, ResultVersion, utcnow
from contest.domain import allowed
from contest.domain.certificates import HonourRule, honours_for
from contest.domain.lifecycle import PUBLIC_RESULTS, PUBLISHED
from contest.domain.limits import APPEAL_TEXT, APPELLANT, DECISION_TEXT
from contest.domain.results import AppealStatus, appeal_deadline, appeal_window_open, diff_rows
from contest.domain.scheme import COMPONENT_KINDS, plain
from contest.domain.text import N_, Text
from contest.errors import Conflict, FormInvalid, Invalid, NotFound
from contest.events.lifecycle import transition
from contest.events.service import get_item
from contest.standings import AWARD_LABELS, item_results

APPEAL_DECISIONS = {AppealStatus.UPHELD: N_("申诉成立"), AppealStatus.REJECTED: N_("申诉不成立")}


async def result_rows(db: AsyncSession, item_id: int, honours: list[HonourRule] | None = None) -> list[dict]:
    """The published shape of an item's results: no ID numbers, names and units only.

    Each row also keeps what the competitor's own view and the certificates need, as published:
    the component scores (理论/实操/答辩 with their weights), the honours the award earns under
    ``honours``, the entry and its members (ids and names; the public list shows names only).
    """
    results = await item_results(db, item_id)
    return [
        {
            "station": row.entry.station_no,
            "entry_no": row.entry.entry_no,
            "names": row.entry.team_name or "、".join(m.person.name for m in row.entry.members),
            "unit": row.entry.unit.name,
            "total": None if row.score.total is None else f"{row.score.total:.2f}",
            "place": row.ranked.place,
            "award": AWARD_LABELS.get(row.ranked.award or "", ""),
            "entry_id": row.entry.id,
            "team": row.entry.team_name,
            "people": [{"id": m.person.id, "name": m.person.name} for m in row.entry.members],
            "components": [
                {
                    "kind": c.kind,
                    "name": c.name or COMPONENT_KINDS.get(c.kind, c.kind),
                    "weight": plain(c.weight),
                    "score": _two_places(row.score.components.get(c.kind)),
                }
                for c in results.item.components
            ],
            "honours": honours_for(row.ranked.award, honours or []),
        }
        for row in results.rows
    ]


def _two_places(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


async def versions(db: AsyncSession, item_id: int) -> list[ResultVersion]:
    return list((await db.execute(select(ResultVersion).where(ResultVersion.item_id == item_id).order_by(ResultVersion.version))).scalars())


async def add_version(db: AsyncSession, actor: Actor, item: Item) -> ResultVersion:
    """Record this publication as the next version, with what changed since the last one.

    Called inside the publish transaction; the caller commits.
    """
    earlier = await versions(db, item.id)
    rows = await result_rows(db, item.id, await honour_rules(db, item.competition_id))
    previous = earlier[-1] if earlier else None
    reason = ""
    if previous is not None:
        reopen = await db.execute(
            select(AuditRecord.detail)
            .where(AuditRecord.entity == "item", AuditRecord.entity_id == str(item.id), AuditRecord.action == "item.reopen")
            .order_by(AuditRecord.id.desc())
            .limit(1)
        )
        reason = (reopen.scalar() or {}).get("reason", "")
    version = ResultVersion(
        item_id=item.id,
        version=len(earlier) + 1,
        published_by=actor.username,
        reason=reason,
        rows=rows,
        changes=diff_rows(previous.rows, rows) if previous else [],
    )
    db.add(version)
    await db.flush()
    await record(db, actor, "results.version", "item", item.id, {"version": version.version, "changes": len(version.changes)})
    await issue_for_version(db, actor, item, version)
    return version


async def _item_and_competition(db: AsyncSession, item_id: int) -> tuple[Item, Competition]:
    item = await db.get(Item, item_id)
    if item is None:
        raise NotFound(Text("赛项 {item_id} 不存在", item_id=item_id))
    competition = await db.get(Competition, item.competition_id)
    assert competition is not None
    return item, competition


async def record_appeal(
    db: AsyncSession, actor: Actor, item_id: int, station: int | None, appellant: str, content: str, now: datetime | None = None
) -> Appeal:
    """Record a written appeal; refused outside the window (after publication, for appeal_hours)."""
    item, competition = await _item_and_competition(db, item_id)
    now = now or utcnow()
    errors: dict[str, str] = {}  # form field -> message, shown beside it (contest.web.forms)
    if not appellant.strip():
        errors["appellant"] = N_("请填写申诉人")
    elif problem := APPELLANT.problem(appellant.strip()):
        errors["appellant"] = problem
    if not content.strip():
        errors["content"] = N_("申诉须以书面形式提出:请填写申诉内容")
    elif problem := APPEAL_TEXT.problem(content.strip()):
        errors["content"] = problem
    if station is not None and station not in await drawn_stations(db, item.id):
        errors["station"] = Text("工位号 {station} 不在本赛项的抽签结果中,请从抽签的工位号中选择", station=station)
    if errors:
        raise FormInvalid("申诉信息有误", errors)
    if item.status != PUBLISHED or not appeal_window_open(now, item.published_at, competition.appeal_hours):
        if item.published_at is None or item.status not in PUBLIC_RESULTS:
            raise Conflict("成绩公示后才能受理申诉", code="not_published")
        deadline = appeal_deadline(item.published_at, competition.appeal_hours)
        raise Conflict(
            Text("申诉期已过:应在 {deadline} 前提出", deadline=deadline.astimezone().strftime("%Y-%m-%d %H:%M")),
            code="appeal_window_closed",
        )
    appeal = Appeal(
        item_id=item.id,
        station_no=station,
        appellant=appellant.strip(),
        content=content.strip(),
        recorded_by=actor.username,
        received_at=now,
    )
    db.add(appeal)
    await db.flush()
    await record(db, actor, "appeal.record", "item", item.id, {"appeal_id": appeal.id, "station": station, "appellant": appeal.appellant})
    await db.commit()
    return appeal


async def drawn_stations(db: AsyncSession, item_id: int) -> dict[int, str]:
    """The item's drawn 工位号 -> who is there (names: appeals come after the reveal), in station order."""
    rows = await db.execute(
        select(Entry)
        .where(Entry.item_id == item_id, Entry.station_no.is_not(None))
        .options(selectinload(Entry.members).selectinload(EntryMember.person))
        .order_by(Entry.station_no)
    )
    return {e.station_no: e.team_name or "、".join(m.person.name for m in e.members) for e in rows.scalars() if e.station_no is not None}


async def decide_appeal(db: AsyncSession, actor: Actor, item_id: int, appeal_id: int, status: str, decision: str) -> Appeal:
    """仲裁组: the decision is final; an upheld appeal is followed by a reopen of the item."""
    appeal = await db.get(Appeal, appeal_id)
    if appeal is None or appeal.item_id != item_id:
        raise NotFound("申诉不存在")
    if appeal.status != AppealStatus.PENDING:
        raise Conflict("该申诉已有仲裁结论,仲裁结论为最终结论")
    if status not in APPEAL_DECISIONS:
        raise Invalid("仲裁结论应为 申诉成立 或 申诉不成立", field="status")
    if not decision.strip():
        raise Invalid("请填写仲裁意见", field="decision")
    if problem := DECISION_TEXT.problem(decision.strip()):
        raise Invalid(problem, field="decision")
    appeal.status, appeal.decision, appeal.decided_by, appeal.decided_at = status, decision.strip(), actor.username, utcnow()
    await record(db, actor, "appeal.decide", "item", appeal.item_id, {"appeal_id": appeal.id, "status": status})
    await db.commit()
    return appeal


async def appeals_of(db: AsyncSession, item_id: int) -> list[Appeal]:
    return list((await db.execute(select(Appeal).where(Appeal.item_id == item_id).order_by(Appeal.id))).scalars())


async def pending_appeals(db: AsyncSession, item_id: int) -> int:
    query = select(func.count()).select_from(Appeal).where(Appeal.item_id == item_id, Appeal.status == AppealStatus.PENDING)
    return (await db.execute(query)).scalar_one()


async def publish(db: AsyncSession, actor: Actor, item_id: int) -> int:
    """公示: the results become public as the next version (v1, v2 after a revision)."""
    item = await get_item(db, item_id)
    item.published_at = utcnow()
    version = await add_version(db, actor, item)
    return await transition(db, actor, item, "publish", {"version": version.version})


async def finalize(db: AsyncSession, actor: Actor, item_id: int, now: datetime | None = None) -> int:
    """The results become final once the appeal window has closed with no appeal pending."""
    item = await get_item(db, item_id)
    check = allowed.finalize_check(
        item.status, now or utcnow(), item.published_at, item.competition.appeal_hours, await pending_appeals(db, item_id)
    )
    if check is not None and check[0] != "bad_state":  # a bad state: the lifecycle's own refusal
        raise Conflict(check[1], code=check[0])
    return await transition(db, actor, item, "finalize", {})
