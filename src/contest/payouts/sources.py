"""Where a payout batch's achievements come from.

(a) Our own competitions under the batch's policy whose end date (or, without one, year) falls
in the batch's period: every item whose results are published or final. An entry with an award
(1st-3rd, 优胜奖) is an achievement with its place (and 优胜奖 when it has it); an entry ranked
further down is one only when a tier of the policy pays its place (e.g. 第4至10名, or a share of
the field), so the 未发放 list is not filled with everyone who took part. Each achievement knows
its entry's members (the entry size), the item's field (entries ranked) and the occupation.
(b) External results imported from the award engine's Excel template, kept in the engine's JSON
form on the batch and read again at every computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import Appeal, Entry, Item, utcnow
from contest.db.models import Competition as CompetitionRow
from contest.domain.awards.inputs import achievements_from_json
from contest.domain.awards.model import Achievement, Coach, Competition, Member, Person, Result
from contest.domain.awards.policy import Policy
from contest.domain.competition import ITEM_STATUSES
from contest.domain.lifecycle import FINAL, PUBLIC_RESULTS
from contest.domain.results import AppealStatus, Settled, settled
from contest.domain.text import Text
from contest.standings import item_results

PLACE_AWARDS = ("first", "second", "third")
PROVISIONAL_PREFIX = "该赛项成绩尚未最终确认"  # every provisional note starts so (the workbook adds an override's word)
SETTLED_NOTE = "该赛项成绩已公示,申诉期已过且无未处理申诉,视为最终成绩"
OVERRIDE_NOTE = "经组织方准许在成绩最终确认前审批(理由见汇总表说明)"


def not_final_why(state: Settled) -> str:
    """Why results cannot yet be paid from: "申诉期内(至 …)", "有 N 件申诉尚未处理" (Settled).
    A ``Text``: the batch page shows it in the reader's language; a line's 说明 keeps the Chinese."""
    reasons: list[str] = []
    if state.window_open and state.deadline is not None:
        reasons.append(Text("申诉期内(至 {deadline})", deadline=state.deadline.astimezone().strftime("%Y-%m-%d %H:%M")))
    if state.pending_appeals:
        reasons.append(Text("有 {count} 件申诉尚未处理", count=state.pending_appeals))
    if len(reasons) == 2:
        return Text("{first};{rest}", first=reasons[0], rest=reasons[1])
    return reasons[0] if reasons else ""


def provisional_note(state: Settled) -> str:
    """The 说明 of a line whose results cannot yet be paid from."""
    return f"{PROVISIONAL_PREFIX}:{not_final_why(state)},申诉处理后可能变动"


ITEM_STATUS_LABELS: dict[str, str] = {
    **ITEM_STATUSES,  # one source: contest.domain.competition
}


@dataclass
class SourceItem:
    competition_id: int
    competition: str
    item_id: int
    item: str
    status: str
    included: bool
    achievements: int = 0
    final: bool = False  # can be paid from when computed (Settled.final): confirmed, or window closed, no appeal pending
    why: str = ""  # when not: the appeal window's end, appeals pending

    def to_json(self) -> dict[str, Any]:
        return {
            "competition_id": self.competition_id,
            "competition": self.competition,
            "item_id": self.item_id,
            "item": self.item,
            "status": self.status,
            "included": self.included,
            "achievements": self.achievements,
            "final": self.final,
            "why": self.why,
        }


@dataclass
class Collected:
    achievements: list[Achievement] = field(default_factory=list)
    source_of: dict[str, str] = field(default_factory=dict)  # achievement id -> "item:<id>" / "external"
    provisional: dict[str, str] = field(default_factory=dict)  # achievement id -> its note, for items not yet final (Settled)
    settled: set[str] = field(default_factory=set)  # achievement ids from items treated as final (window closed, no appeal)
    items: list[SourceItem] = field(default_factory=list)


def _employee_status(is_employee: bool) -> str:
    return "职工" if is_employee else "非职工"


def _share(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def entry_achievement(
    achievement_id: str, competition: Competition, item: Item, entry: Entry, result: Result, field_size: int | None = None
) -> Achievement:
    unit = entry.unit.name if entry.unit is not None else ""
    members = tuple(
        Member(
            Person(
                id_number=m.person.id_number,
                name=m.person.name,
                unit=unit,
                employment_region=m.person.employment_region,
                employee_status=_employee_status(m.person.is_employee),
            )
        )
        for m in entry.members
    )
    coaches_rows = sorted(entry.coaches, key=lambda c: (not c.is_lead, c.position, c.id))  # the lead first
    shares = [c.share for c in coaches_rows]
    use_shares = bool(shares) and all(s is not None and s > 0 for s in shares)  # shares all given, or equal split
    coaches = tuple(
        Coach(
            Person(
                id_number=c.person.id_number,
                name=c.person.name,
                unit=unit,
                employment_region=c.person.employment_region,
                employee_status=_employee_status(c.person.is_employee),
            ),
            share=_share(c.share) if use_shares else None,
            lead=c.is_lead,
        )
        for c in coaches_rows
    )
    return Achievement(
        id=achievement_id,
        competition=competition,
        item=item.name,
        skill_code=item.skill_code,
        result=result,
        members=members,
        coaches=coaches,
        field_size=field_size,
        occupation=item.skill_name or "",
        group=item.group_name or "",
    )


async def _pending_appeals(db: AsyncSession, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    statement = select(Appeal.item_id, func.count()).where(Appeal.item_id.in_(item_ids), Appeal.status == AppealStatus.PENDING)
    return {item_id: count for item_id, count in (await db.execute(statement.group_by(Appeal.item_id))).all()}


def item_settled(item: Item, competition: CompetitionRow, pending: int, now: datetime) -> Settled:
    """The rule approval applies (check_sources) and the lines' 说明 say (collect_ours)."""
    return settled(item.status == FINAL, item.published_at, competition.appeal_hours, pending, now)


async def collect_ours(db: AsyncSession, policy: Policy, period_from: date, period_to: date, now: datetime | None = None) -> Collected:
    collected = Collected()
    now = now or utcnow()
    policy_id = policy.id
    in_period = or_(
        and_(CompetitionRow.end_date.is_not(None), CompetitionRow.end_date >= period_from, CompetitionRow.end_date <= period_to),
        and_(CompetitionRow.end_date.is_(None), CompetitionRow.year >= period_from.year, CompetitionRow.year <= period_to.year),
    )
    competitions = list(
        (
            await db.execute(select(CompetitionRow).where(CompetitionRow.policy_id == policy_id, in_period).order_by(CompetitionRow.id))
        ).scalars()
    )
    for row in competitions:
        items = list((await db.execute(select(Item).where(Item.competition_id == row.id).order_by(Item.id))).scalars())
        pending = await _pending_appeals(db, [item.id for item in items if item.status in PUBLIC_RESULTS])
        competition = Competition(
            name=row.name, level=row.level, year=row.year, competition_class=row.category, organizer=row.organizer, date=row.end_date
        )
        for item in items:
            status = item.status
            source = SourceItem(row.id, row.name, item.id, item.name, status, status in PUBLIC_RESULTS)
            collected.items.append(source)
            if not source.included:
                continue
            state = item_settled(item, row, pending.get(item.id, 0), now)
            source.final = state.final
            note = "" if state.final else provisional_note(state)
            source.why = "" if state.final else not_final_why(state)
            results = await item_results(db, item.id)
            field_size = sum(1 for line in results.rows if line.ranked.place is not None)
            for line in results.rows:
                award, place = line.ranked.award, line.ranked.place
                if place is None:
                    continue
                result = Result(place=place, excellence=award == "excellence")
                achievement_id = f"C{row.id}-I{item.id}-{line.entry.entry_no}"
                achievement = entry_achievement(achievement_id, competition, results.item, line.entry, result, field_size)
                if award not in PLACE_AWARDS and award != "excellence" and policy.find_tier(achievement) is None:
                    continue  # ranked, no award, and no tier pays the place: not a candidate
                collected.achievements.append(achievement)
                collected.source_of[achievement.id] = f"item:{item.id}"
                if note:
                    collected.provisional[achievement.id] = note
                elif status != FINAL:
                    collected.settled.add(achievement.id)
                source.achievements += 1
    return collected


# ---------------------------------------------------------------- external results (engine JSON form)


def _person_json(person: Person) -> dict[str, Any]:
    return {
        "id_number": person.id_number,
        "name": person.name,
        "unit": person.unit,
        "employment_region": person.employment_region,
        "employee_status": person.employee_status,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
    }


def _result_json(result: Result) -> dict[str, Any]:
    if result.medal:
        return {"medal": result.medal, "place": result.place}
    if result.place is not None:
        return {"place": result.place, "excellence": True} if result.excellence else {"place": result.place}
    if result.excellence:
        return {"excellence": True}
    return {"squad": result.squad}


def achievement_to_json(achievement: Achievement) -> dict[str, Any]:
    comp = achievement.competition
    return {
        "id": achievement.id,
        "competition": {
            "name": comp.name,
            "level": comp.level,
            "year": comp.year,
            "class": comp.competition_class,
            "kinds": sorted(comp.kinds),
            "organizer": comp.organizer,
            "date": comp.date.isoformat() if comp.date else None,
        },
        "item": achievement.item,
        "skill_code": achievement.skill_code,
        "result": _result_json(achievement.result),
        "members": [{**_person_json(m.person), "share": None if m.share is None else str(m.share)} for m in achievement.members],
        "coaches": [
            {**_person_json(c.person), "share": None if c.share is None else str(c.share), "lead": c.lead} for c in achievement.coaches
        ],
        "group": achievement.group,
        "entry_size": achievement.entry_size,
        "field_size": achievement.field_size,
        "occupation": achievement.occupation,
    }


def external_to_json(achievements: list[Achievement]) -> dict[str, Any]:
    return {"achievements": [achievement_to_json(a) for a in achievements]}


def external_from_json(data: dict[str, Any]) -> list[Achievement]:
    if not data or not data.get("achievements"):
        return []
    return achievements_from_json(data)


# ---------------------------------------------------------------- are the results final? (approval waits)


@dataclass
class SourceCheck:
    """A source item that keeps a batch from being approved, and why."""

    item_id: int
    competition: str
    item: str
    why: str
    stale: bool = False  # the lines no longer match the results: recompute (nobody can vouch)
    final: bool = False


async def check_sources(db: AsyncSession, sources: list[dict[str, Any]], computed_at: datetime | None, now: datetime) -> list[SourceCheck]:
    """Our items the batch read, as they stand now: each one still in its appeal window, with an
    undecided appeal, reopened, or republished since the batch was computed. Items whose window
    has closed with every appeal decided count as final, confirmed (最终成绩) or not."""
    ids = [s["item_id"] for s in sources if not s.get("external") and s.get("included")]
    if not ids:
        return []
    rows = (
        await db.execute(
            select(Item, CompetitionRow)
            .join(CompetitionRow, CompetitionRow.id == Item.competition_id)
            .where(Item.id.in_(ids))
            .order_by(Item.id)
        )
    ).all()
    pending = await _pending_appeals(db, ids)
    checks = []
    for item, competition in rows:
        label = ITEM_STATUS_LABELS.get(item.status, item.status)
        base: dict[str, Any] = {"item_id": item.id, "competition": competition.name, "item": item.name}
        if item.status not in PUBLIC_RESULTS:
            checks.append(SourceCheck(**base, why=Text("成绩已撤回({status}),须重新计算", status=Text(label)), stale=True))
            continue
        if computed_at is not None and item.published_at is not None and item.published_at > computed_at:
            checks.append(SourceCheck(**base, why=Text("成绩在本批次计算后重新公示,须重新计算"), stale=True))
            continue
        state = item_settled(item, competition, pending.get(item.id, 0), now)
        if not state.final:
            checks.append(SourceCheck(**base, why=not_final_why(state)))
    return checks
