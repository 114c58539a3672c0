"""Storing a judge's mark: checked, stored once, audited and sequenced in one short transaction.

A mark carries a client-made ``client_id``. The first time it is seen the mark is stored and the
acknowledgement recorded in mark_submissions; a retry of the same id gets that acknowledgement
again and stores nothing. So a tablet may resend its outbox as often as the Wi-Fi demands.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, record
from contest.db.models import (
    Component,
    ConflictOverride,
    Criterion,
    DeclaredConflict,
    Entry,
    EntryCoach,
    EntryMember,
    Item,
    JudgeAssignment,
    Mark,
    MarkSubmission,
    Person,
    utcnow,
)
from contest.domain.aggregation import CriterionRule, check_mark
from contest.domain.conflicts import EntryFacts, JudgeFacts, conflict_reasons
from contest.domain.lifecycle import ACCEPTS_MARKS
from contest.domain.scheme import plain

CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")

# Error codes of the protocol (docs/live.md) with their Chinese messages.
ERRORS: dict[str, str] = {
    "bad_message": "消息格式不正确",
    "not_signed_in": "请先登录",
    "not_a_judge": "当前账号不是裁判",
    "unknown_item": "赛项不存在",
    "item_closed": "该赛项当前不接受评分",
    "not_assigned": "您未被分配到该赛项",
    "unknown_station": "工位号不存在",
    "unknown_criterion": "评分项不属于该赛项",
    "out_of_range": "分值超出范围",
    "off_step": "分值不符合步长",
    "not_a_number": "分值不是有效数字",
    "conflict": "您与该参赛单元需要回避,不能评分",
    "taken": "该测量分已由其他裁判录入",
    "panel_full": "该评价分的裁判人数已满",
    "client_id_reused": "client_id 已被其他裁判使用",
}


class MarkRefused(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or ERRORS[code]


@dataclass(frozen=True)
class MarkIn:
    client_id: str
    item_id: int
    station: int
    criterion_id: int
    value: str
    reason: str = ""


@dataclass(frozen=True)
class Ack:
    client_id: str
    status: str  # "stored" the first time, "duplicate" for a retry
    item_id: int
    station: int
    criterion_id: int
    value: str
    seq: int

    def message(self) -> dict:
        return {"type": "ack", **asdict(self)}


@dataclass(frozen=True)
class Judge:
    user_id: int
    username: str
    person_id: int
    device: str = ""


def parse_mark(payload: dict) -> MarkIn:
    """The mark message's fields, or MarkRefused("bad_message") naming what is wrong."""
    try:
        client_id = str(payload["client_id"])
        mark = MarkIn(
            client_id=client_id,
            item_id=int(payload["item_id"]),
            station=int(payload["station"]),
            criterion_id=int(payload["criterion_id"]),
            value=str(payload["value"]).strip(),
            reason=str(payload.get("reason", ""))[:500],
        )
    except (KeyError, TypeError, ValueError):
        raise MarkRefused("bad_message", "消息缺少字段或字段类型不正确:需要 client_id、item_id、station、criterion_id、value") from None
    if not CLIENT_ID.match(client_id):
        raise MarkRefused("bad_message", "client_id 应为 8-64 位字母、数字或连字符(UUID)")
    return mark


def _rule(criterion: Criterion) -> CriterionRule:
    return CriterionRule(
        id=criterion.id,
        code=criterion.code,
        max_mark=criterion.max_mark,
        step=criterion.step,
        kind=criterion.kind,
        panel_size=criterion.panel_size,
        aggregation=criterion.aggregation,
    )


async def next_seq(db: AsyncSession, item_id: int) -> int | None:
    """Take the item's next sequence number (an atomic increment in this transaction); None if no such item."""
    result = await db.execute(update(Item).where(Item.id == item_id).values(seq=Item.seq + 1).returning(Item.seq))
    return result.scalar_one_or_none()


async def _is_conflicted(db: AsyncSession, item_id: int, judge_person_id: int, entry: Entry) -> bool:
    overridden = await db.execute(
        select(ConflictOverride.id).where(
            ConflictOverride.item_id == item_id, ConflictOverride.judge_person_id == judge_person_id, ConflictOverride.entry_id == entry.id
        )
    )
    if overridden.first():
        return False
    judge_unit = (await db.execute(select(Person.unit_id).where(Person.id == judge_person_id))).scalar_one()
    members = (await db.execute(select(EntryMember.person_id, Person.unit_id).join(Person).where(EntryMember.entry_id == entry.id))).all()
    coaches = (await db.execute(select(EntryCoach.person_id).where(EntryCoach.entry_id == entry.id))).scalars().all()
    declared = (await db.execute(select(DeclaredConflict.other_person_id).where(DeclaredConflict.judge_person_id == judge_person_id))).scalars()
    facts = EntryFacts(
        unit_id=entry.unit_id,
        member_person_ids=frozenset(p for p, _ in members),
        member_unit_ids=frozenset(u for _, u in members if u),
        coach_person_ids=frozenset(coaches),
    )
    return bool(conflict_reasons(JudgeFacts(judge_person_id, judge_unit, frozenset(declared)), facts))


async def submit_mark(
    db: AsyncSession, judge: Judge, mark: MarkIn, write_lock: contextlib.AbstractAsyncContextManager | None = None
) -> tuple[Ack, int | None]:
    """Check and store one mark. Returns the acknowledgement and the competition id to notify
    (None for a retry: nothing changed). Raises MarkRefused with a protocol error code.

    The checks that no other mark can change (the item, the assignment, the station, the criterion,
    the value, conflicts) are read first, outside any write lock. Then the item's sequence number is
    taken: that write locks the item row (PostgreSQL) or the database (SQLite) until commit, so the
    checks that depend on other marks (a retry, "taken", "panel_full") and the item's status are
    made again under it, and two retries of one client_id can never both store. ``write_lock``
    (the websocket passes one per process on SQLite) queues writers in the event loop instead of in
    SQLite's busy handler; holding it only for the write part keeps the queue short.
    """
    try:
        value = Decimal(mark.value)
    except InvalidOperation:
        raise MarkRefused("not_a_number") from None
    item = await db.get(Item, mark.item_id)
    if item is None:
        raise MarkRefused("unknown_item")
    retry = await _retry(db, judge, mark)
    if retry is not None:
        return retry, None
    _check_open(item)
    assigned = await db.execute(
        select(JudgeAssignment.id).where(JudgeAssignment.item_id == item.id, JudgeAssignment.person_id == judge.person_id)
    )
    if assigned.first() is None:
        raise MarkRefused("not_assigned")
    entry = (await db.execute(select(Entry).where(Entry.item_id == item.id, Entry.station_no == mark.station))).scalar_one_or_none()
    if entry is None:
        raise MarkRefused("unknown_station", f"工位号 {mark.station} 不存在")
    criterion = (
        await db.execute(select(Criterion).join(Component).where(Criterion.id == mark.criterion_id, Component.item_id == item.id))
    ).scalar_one_or_none()
    if criterion is None:
        raise MarkRefused("unknown_criterion")
    problem = check_mark(_rule(criterion), value)
    if problem is not None:
        raise MarkRefused(*problem)
    if await _is_conflicted(db, item.id, judge.person_id, entry):
        raise MarkRefused("conflict")
    await db.commit()  # end the read transaction (nothing written): SQLite cannot turn a stale read into a write
    async with write_lock or contextlib.nullcontext():
        return await _store_mark(db, judge, mark, value, item, entry, criterion)


async def _retry(db: AsyncSession, judge: Judge, mark: MarkIn) -> Ack | None:
    """The acknowledgement again if this client_id is already stored (MarkRefused if by someone else)."""
    earlier = await db.get(MarkSubmission, mark.client_id)
    if earlier is None:
        return None
    owner, stored_value, stored_seq = earlier.judge_person_id, earlier.value, earlier.seq
    await db.rollback()  # nothing changes (and a taken sequence number is given back)
    if owner != judge.person_id:
        raise MarkRefused("client_id_reused")
    return Ack(mark.client_id, "duplicate", mark.item_id, mark.station, mark.criterion_id, plain(stored_value), stored_seq)


def _check_open(item: Item, status: str | None = None) -> None:
    status = status or item.status
    if status not in ACCEPTS_MARKS:
        raise MarkRefused("item_closed", "该赛项已锁定,不再接受评分" if status != "setup" else "该赛项尚未开始评分")


async def _store_mark(db: AsyncSession, judge: Judge, mark: MarkIn, value: Decimal, item: Item, entry: Entry, criterion: Criterion) -> tuple[Ack, int | None]:
    seq = await next_seq(db, item.id)
    if seq is None:
        raise MarkRefused("unknown_item")
    retry = await _retry(db, judge, mark)  # a retry of this client_id may have been stored since the first look
    if retry is not None:
        return retry, None
    _check_open(item, (await db.execute(select(Item.status).where(Item.id == item.id))).scalar_one())
    existing = list((await db.execute(select(Mark).where(Mark.entry_id == entry.id, Mark.criterion_id == criterion.id))).scalars())
    own = next((m for m in existing if m.judge_person_id == judge.person_id), None)
    if own is None and criterion.kind == "measurement" and existing:
        raise MarkRefused("taken")
    if own is None and len(existing) >= criterion.panel_size:
        raise MarkRefused("panel_full")

    old_value = plain(own.value) if own is not None else None
    if own is None:
        own = Mark(item_id=item.id, entry_id=entry.id, criterion_id=criterion.id, judge_person_id=judge.person_id)
        db.add(own)
    own.value, own.seq, own.client_id, own.updated_at = value, seq, mark.client_id, utcnow()
    await db.flush()
    db.add(MarkSubmission(client_id=mark.client_id, mark_id=own.id, item_id=item.id, judge_person_id=judge.person_id, value=value, seq=seq))
    detail = {
        "item_id": item.id,
        "station": mark.station,
        "criterion": criterion.code,
        "criterion_id": criterion.id,
        "judge_person_id": judge.person_id,
        "old": old_value,
        "new": plain(value),
        "reason": mark.reason,
        "client_id": mark.client_id,
        "seq": seq,
    }
    await record(db, Actor(judge.user_id, judge.username, judge.device), "mark.set", "mark", own.id, detail)
    await db.commit()
    return Ack(mark.client_id, "stored", item.id, mark.station, criterion.id, plain(value), seq), item.competition_id


async def judge_marks(db: AsyncSession, person_id: int, item_ids: list[int]) -> list[dict]:
    """What this judge has stored (for the tablet to reconcile after a reload)."""
    rows = await db.execute(
        select(Mark.item_id, Entry.station_no, Mark.criterion_id, Mark.value, Mark.seq)
        .join(Entry, Entry.id == Mark.entry_id)
        .where(Mark.judge_person_id == person_id, Mark.item_id.in_(item_ids))
    )
    return [
        {"item_id": item_id, "station": station, "criterion_id": criterion_id, "value": plain(value), "seq": seq}
        for item_id, station, criterion_id, value, seq in rows.all()
    ]


async def count_marks(db: AsyncSession, item_id: int) -> int:
    return (await db.execute(select(func.count()).select_from(Mark).where(Mark.item_id == item_id))).scalar_one()
