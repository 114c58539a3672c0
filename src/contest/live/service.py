"""Storing judges' marks: checked, stored once, audited and sequenced, a batch per short transaction.

A mark carries a client-made ``client_id``. The first time it is seen the mark is stored and the
acknowledgement recorded in mark_submissions; a retry of the same id gets that acknowledgement
again and stores nothing. So a tablet may resend its outbox as often as the Wi-Fi demands.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Result, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contest.audit.service import Actor, AuditEntry, append_records
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
from contest.domain.lifecycle import ACCEPTS_MARKS, SETUP
from contest.domain.scheme import plain
from contest.domain.text import N_, Text
from contest.live.protocol import ERRORS, MarkIn

__all__ = ["ERRORS", "Ack", "FactsCache", "Judge", "MarkIn", "MarkRefused", "Outcome", "store_marks", "store_marks_in", "submit_mark"]

# A mark's value as text: ASCII digits only (Decimal would also read "١٢" or "NaN"), an optional
# sign, fraction and exponent. Anything else is not_a_number.
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)


class MarkRefused(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or ERRORS[code]


@dataclass(frozen=True)
class Ack:
    client_id: str
    status: str  # "stored" the first time, "duplicate" for a retry
    item_id: int
    station: int
    criterion_id: int
    value: str
    seq: int
    # Not sent: whether this stored mark filled its cell (a measurement, or the judgement panel's
    # last seat), so the other judges' tablets can be told the cell is taken (hub.notify).
    fills_cell: bool = field(default=False, compare=False)

    def message(self) -> dict:
        body = asdict(self)
        del body["fills_cell"]
        return {"type": "ack", **body}


@dataclass(frozen=True)
class Judge:
    user_id: int
    username: str
    person_id: int
    device: str = ""


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


Outcome = tuple[Ack, int | None] | MarkRefused  # the ack and the competition to notify (None: nothing changed)


async def submit_mark(db: AsyncSession, judge: Judge, mark: MarkIn) -> tuple[Ack, int | None]:
    """Check and store one mark (a batch of one). Returns the acknowledgement and the competition id to
    notify (None for a retry: nothing changed). Raises MarkRefused with a protocol error code."""
    (outcome,) = await store_marks(db, [(judge, mark)])
    if isinstance(outcome, MarkRefused):
        raise outcome
    return outcome


async def store_marks(db: AsyncSession, batch: Sequence[tuple[Judge, MarkIn]]) -> list[Outcome]:
    """`store_marks_in` on an async session. Commits."""
    return await db.run_sync(store_marks_in, batch)


def store_marks_in(db: Session, batch: Sequence[tuple[Judge, MarkIn]], facts: FactsCache | None = None) -> list[Outcome]:
    """Check and store a batch of marks in one transaction, in order; one outcome per mark. Commits.

    The batch's items are locked first (their rows on PostgreSQL, the database on SQLite), so what
    is read after (earlier client_ids, the items' status, the marks already in a cell) stays current
    until the commit: two copies of one client_id never both store, in one batch or in two
    processes. Every mark is checked against facts read once for the whole batch (a dozen grouped
    queries, instead of a dozen per mark), and each item's sequence number grows by the number of
    marks it stored. A refused or duplicate mark changes nothing and takes no sequence number.
    Synchronous, so that the writer can run a whole batch in its own thread (live/writer.py), which
    passes its ``facts`` (FactsCache) on SQLite.
    """
    if not batch:
        return []
    items = _lock_items(db, sorted({mark.item_id for _, mark in batch}))
    checks = _BatchChecks.load(db, batch, items, facts)
    pending = [checks.apply(judge, mark) for judge, mark in batch]
    stored = [p for p in pending if isinstance(p, _Stored)]
    if stored:
        _write(db, stored)
    db.commit()
    return [p.outcome() if isinstance(p, _Stored | _SameAs) else p for p in pending]


@dataclass
class _Stored:
    """A mark accepted in this batch; its seq is known once the batch is written."""

    judge: Judge
    mark: MarkIn
    value: Decimal
    row: Mark
    old_value: str | None
    competition_id: int
    criterion_code: str
    fills_cell: bool = False
    seq: int = 0

    def outcome(self) -> Outcome:
        mark = self.mark
        return Ack(
            mark.client_id, "stored", mark.item_id, mark.station, mark.criterion_id, plain(self.value), self.seq, self.fills_cell
        ), self.competition_id


@dataclass(frozen=True)
class _SameAs:
    """A copy of a client_id stored earlier in this same batch: a duplicate of it."""

    first: _Stored
    mark: MarkIn

    def outcome(self) -> Outcome:
        ack = self.first.outcome()[0]  # type: ignore[index]  # the first of the batch was stored: an (Ack, competition) pair
        return Ack(ack.client_id, "duplicate", self.mark.item_id, self.mark.station, self.mark.criterion_id, ack.value, ack.seq), None


def _lock_items(db: Session, item_ids: list[int]) -> dict[int, tuple[str, int]]:
    """Lock the items (in id order, so two processes cannot deadlock); returns {id: (status, competition id)}."""
    if db.get_bind().dialect.name == "postgresql":
        rows: Result[*tuple[Any, ...]] = db.execute(
            select(Item.id, Item.status, Item.competition_id).where(Item.id.in_(item_ids)).order_by(Item.id).with_for_update()
        )
    else:  # SQLite: any write takes the database's one write lock until commit
        rows = db.execute(
            update(Item).where(Item.id.in_(item_ids)).values(seq=Item.seq).returning(Item.id, Item.status, Item.competition_id)
        )
    return {item_id: (status, competition_id) for item_id, status, competition_id in rows.all()}


@dataclass
class ItemFacts:
    """What a mark's checks need to know about one item besides its status and its cells."""

    judges: set[int] = field(default_factory=set)  # assigned judge persons
    stations: dict[int, tuple[int, int]] = field(default_factory=dict)  # station -> (entry, unit)
    criteria: dict[int, CriterionRule] = field(default_factory=dict)
    overrides: set[tuple[int, int]] = field(default_factory=set)  # (judge person, entry)
    entries: dict[int, EntryFacts] = field(default_factory=dict)  # entry -> unit, members, coaches


class FactsCache:
    """The facts a mark's checks read that only someone else's write can change, per item: its
    judges, stations, criteria and conflict overrides, its entries' members and coaches, and its
    judges' units and declared relations. Read for whole items (a handful of grouped queries for the
    items of a batch that are not known yet).

    The SQLite writer keeps one from batch to batch, and trusts it only while no other connection
    has committed anything to the database: SQLite's ``PRAGMA data_version``, read under the batch's
    write lock (nobody else can commit until our commit), changes with every commit made by another
    connection, and then everything is forgotten. An override granted, a judge reassigned or a roster
    corrected is therefore seen by the very next batch, exactly as without the cache; what it saves
    is reading them again for each of the many batches in between (bench/results/live.md). Anything
    else (PostgreSQL, the async path) uses a fresh one per batch: everything is read.
    """

    def __init__(self) -> None:
        self._connection: object | None = None
        self._version: int | None = None
        self.items: dict[int, ItemFacts] = {}
        self.judges: dict[int, JudgeFacts] = {}  # judge person -> unit and declared relations
        self.loads = 0  # items read (for tests and benches)

    def validate(self, db: Session) -> None:
        """Forget everything if another connection has committed since the last batch (SQLite only)."""
        connection = db.connection().connection.dbapi_connection
        version = db.execute(text("PRAGMA data_version")).scalar_one()
        if connection is not self._connection or version != self._version:
            self.items, self.judges = {}, {}
            self._connection, self._version = connection, version

    def of(self, db: Session, item_ids: set[int]) -> dict[int, ItemFacts]:
        missing = item_ids - set(self.items)
        if missing:
            self._load(db, missing)
        return {item_id: self.items[item_id] for item_id in item_ids}

    def _load(self, db: Session, item_ids: set[int]) -> None:
        self.loads += len(item_ids)
        loaded = {item_id: ItemFacts() for item_id in item_ids}
        rows: Result[*tuple[Any, ...]] = db.execute(
            select(JudgeAssignment.item_id, JudgeAssignment.person_id).where(JudgeAssignment.item_id.in_(item_ids))
        )
        for item_id, person_id in rows.all():
            loaded[item_id].judges.add(person_id)
        rows = db.execute(
            select(Entry.item_id, Entry.station_no, Entry.id, Entry.unit_id).where(
                Entry.item_id.in_(item_ids), Entry.station_no.is_not(None)
            )
        )
        item_of_entry: dict[int, int] = {}
        for item_id, station, entry_id, unit_id in rows.all():
            loaded[item_id].stations[station] = (entry_id, unit_id)
            item_of_entry[entry_id] = item_id
        rows = db.execute(select(Component.item_id, Criterion).join(Component).where(Component.item_id.in_(item_ids)))
        for item_id, criterion in rows.all():
            # Plain rules, not ORM objects: these outlive the session (and its rollbacks) that read them.
            loaded[item_id].criteria[criterion.id] = _rule(criterion)
        rows = db.execute(
            select(ConflictOverride.item_id, ConflictOverride.judge_person_id, ConflictOverride.entry_id).where(
                ConflictOverride.item_id.in_(item_ids)
            )
        )
        for item_id, judge_id, entry_id in rows.all():
            loaded[item_id].overrides.add((judge_id, entry_id))
        members: dict[int, list[tuple[int, int | None]]] = defaultdict(list)  # entry -> [(person, unit)]
        rows = db.execute(
            select(EntryMember.entry_id, EntryMember.person_id, Person.unit_id).join(Person).where(EntryMember.entry_id.in_(item_of_entry))
        )
        for entry_id, person_id, unit_id in rows.all():
            members[entry_id].append((person_id, unit_id))
        coaches: dict[int, set[int]] = defaultdict(set)
        rows = db.execute(select(EntryCoach.entry_id, EntryCoach.person_id).where(EntryCoach.entry_id.in_(item_of_entry)))
        for entry_id, person_id in rows.all():
            coaches[entry_id].add(person_id)
        for item_id, facts in loaded.items():
            for entry_id, unit_id in facts.stations.values():
                facts.entries[entry_id] = EntryFacts(
                    unit_id=unit_id,
                    member_person_ids=frozenset(p for p, _ in members[entry_id]),
                    member_unit_ids=frozenset(u for _, u in members[entry_id] if u),
                    coach_person_ids=frozenset(coaches[entry_id]),
                )
            self.items[item_id] = facts
        judges = {p for facts in loaded.values() for p in facts.judges} - set(self.judges)
        if judges:
            declared: dict[int, set[int]] = defaultdict(set)
            rows = db.execute(
                select(DeclaredConflict.judge_person_id, DeclaredConflict.other_person_id).where(
                    DeclaredConflict.judge_person_id.in_(judges)
                )
            )
            for judge_id, other_id in rows.all():
                declared[judge_id].add(other_id)
            rows = db.execute(select(Person.id, Person.unit_id).where(Person.id.in_(judges)))
            self.judges.update((p, JudgeFacts(p, unit, frozenset(declared[p]))) for p, unit in rows.all())


class _BatchChecks:
    """The facts one batch's checks need, read under the items' lock with grouped queries, and the
    cells as this batch changes them (a second mark on a cell sees the first)."""

    def __init__(self) -> None:
        self.items: dict[int, tuple[str, int]] = {}
        self.submissions: dict[str, tuple[int, Decimal, int]] = {}  # client_id -> (judge, value, seq)
        self.in_batch: dict[str, _Stored] = {}
        self.facts: dict[int, ItemFacts] = {}  # item -> judges, stations, criteria, overrides, entries
        self.judge_facts: dict[int, JudgeFacts] = {}  # judge person -> unit and declared relations
        self.entries: dict[tuple[int, int], tuple[int, int]] = {}  # (item, station) -> (entry, unit), this batch's
        self.cells: dict[tuple[int, int], list[Mark]] = defaultdict(list)  # (entry, criterion) -> marks

    @classmethod
    def load(
        cls, db: Session, batch: Sequence[tuple[Judge, MarkIn]], items: dict[int, tuple[str, int]], facts: FactsCache | None = None
    ) -> _BatchChecks:
        checks = cls()
        checks.items = items
        marks = [mark for _, mark in batch]
        rows: Result[*tuple[Any, ...]] = db.execute(
            select(MarkSubmission.client_id, MarkSubmission.judge_person_id, MarkSubmission.value, MarkSubmission.seq).where(
                MarkSubmission.client_id.in_({m.client_id for m in marks})
            )
        )
        checks.submissions = {client_id: (judge, value, seq) for client_id, judge, value, seq in rows.all()}
        if not any(m.item_id in items for m in marks):
            return checks
        if facts is None:
            facts = FactsCache()  # this batch's own: everything is read
        else:
            facts.validate(db)
        checks.facts = facts.of(db, {m.item_id for m in marks if m.item_id in items})
        checks.judge_facts = facts.judges
        checks.entries = {
            (m.item_id, m.station): entry
            for m in marks
            if m.item_id in items and (entry := checks.facts[m.item_id].stations.get(m.station)) is not None
        }
        if not checks.entries:
            return checks
        cells = {(checks.entries[(m.item_id, m.station)][0], m.criterion_id) for m in marks if (m.item_id, m.station) in checks.entries}
        in_cells = select(Mark).where(Mark.entry_id.in_({e for e, _ in cells}), Mark.criterion_id.in_({c for _, c in cells}))
        for mark in db.execute(in_cells).scalars():
            if (mark.entry_id, mark.criterion_id) in cells:
                checks.cells[(mark.entry_id, mark.criterion_id)].append(mark)
        return checks

    def apply(self, judge: Judge, mark: MarkIn) -> _Stored | _SameAs | Outcome:
        """Check one mark in batch order; if it is accepted, apply it to the cells (not yet written)."""
        try:
            return self._apply(judge, mark)
        except MarkRefused as refused:
            return refused

    def _apply(self, judge: Judge, mark: MarkIn) -> _Stored | _SameAs | Outcome:
        value = _decimal(mark.value)
        if mark.item_id not in self.items:
            raise MarkRefused("unknown_item")
        retry = self._retry(judge, mark)
        if retry is not None:
            return retry
        status, competition_id = self.items[mark.item_id]
        if status not in ACCEPTS_MARKS:
            raise MarkRefused("item_closed", N_("该赛项已锁定,不再接受评分") if status != SETUP else N_("该赛项尚未开始评分"))
        facts = self.facts[mark.item_id]
        if judge.person_id not in facts.judges:
            raise MarkRefused("not_assigned")
        entry = self.entries.get((mark.item_id, mark.station))
        if entry is None:
            raise MarkRefused("unknown_station", Text("工位号 {station} 不存在", station=mark.station))
        entry_id, _ = entry
        criterion = facts.criteria.get(mark.criterion_id)  # another item's criterion is unknown here
        if criterion is None:
            raise MarkRefused("unknown_criterion")
        problem = check_mark(criterion, value)
        if problem is not None:
            raise MarkRefused(*problem)
        if self._conflicted(mark.item_id, judge.person_id, entry_id):
            raise MarkRefused("conflict")
        cell = self.cells[(entry_id, criterion.id)]
        own = next((m for m in cell if m.judge_person_id == judge.person_id), None)
        if own is None and criterion.kind == "measurement" and cell:
            raise MarkRefused("taken")
        if own is None and len(cell) >= criterion.panel_size:
            raise MarkRefused("panel_full")
        old_value = plain(own.value) if own is not None else None
        if own is None:
            own = Mark(item_id=mark.item_id, entry_id=entry_id, criterion_id=criterion.id, judge_person_id=judge.person_id)
            cell.append(own)
        own.value, own.client_id, own.updated_at = value, mark.client_id, utcnow()
        full = criterion.kind == "measurement" or len(cell) >= criterion.panel_size
        stored = _Stored(judge, mark, value, own, old_value, competition_id, criterion.code, full)
        self.in_batch[mark.client_id] = stored
        return stored

    def _retry(self, judge: Judge, mark: MarkIn) -> _SameAs | Outcome | None:
        """The acknowledgement again if this client_id is already stored (MarkRefused if by someone else)."""
        first = self.in_batch.get(mark.client_id)
        if first is not None:
            if first.judge.person_id != judge.person_id:
                raise MarkRefused("client_id_reused")
            return _SameAs(first, mark)
        earlier = self.submissions.get(mark.client_id)
        if earlier is None:
            return None
        owner, stored_value, stored_seq = earlier
        if owner != judge.person_id:
            raise MarkRefused("client_id_reused")
        return Ack(mark.client_id, "duplicate", mark.item_id, mark.station, mark.criterion_id, plain(stored_value), stored_seq), None

    def _conflicted(self, item_id: int, judge_person_id: int, entry_id: int) -> bool:
        facts = self.facts[item_id]
        if (judge_person_id, entry_id) in facts.overrides:
            return False
        return bool(conflict_reasons(self.judge_facts[judge_person_id], facts.entries[entry_id]))


def _decimal(text: str) -> Decimal:
    if not DECIMAL.match(text):
        raise MarkRefused("not_a_number")
    try:
        return Decimal(text)
    except InvalidOperation:  # not reachable for a text the pattern accepts; kept as the last word
        raise MarkRefused("not_a_number") from None


def _write(db: Session, stored: list[_Stored]) -> None:
    """Take each item's sequence numbers (one per stored mark, in batch order), write the marks, their
    client_ids and their audit records."""
    per_item: dict[int, list[_Stored]] = defaultdict(list)
    for one in stored:
        per_item[one.mark.item_id].append(one)
    for item_id in sorted(per_item):
        marks = per_item[item_id]
        last = (db.execute(update(Item).where(Item.id == item_id).values(seq=Item.seq + len(marks)).returning(Item.seq))).scalar_one()
        for offset, one in enumerate(marks):
            one.seq = last - len(marks) + 1 + offset
            one.row.seq = one.seq  # a cell changed twice in the batch keeps the later seq
    db.add_all([one.row for one in stored])
    db.flush()
    db.add_all(
        [
            MarkSubmission(
                client_id=one.mark.client_id,
                mark_id=one.row.id,
                item_id=one.mark.item_id,
                judge_person_id=one.judge.person_id,
                value=one.value,
                seq=one.seq,
            )
            for one in stored
        ]
    )
    append_records(
        db,
        [
            AuditEntry(
                Actor(one.judge.user_id, one.judge.username, one.judge.device),
                "mark.set",
                "mark",
                one.row.id,
                {
                    "item_id": one.mark.item_id,
                    "station": one.mark.station,
                    "criterion": one.criterion_code,
                    "criterion_id": one.mark.criterion_id,
                    "judge_person_id": one.judge.person_id,
                    "old": one.old_value,
                    "new": plain(one.value),
                    "reason": one.mark.reason,
                    "client_id": one.mark.client_id,
                    "seq": one.seq,
                },
            )
            for one in stored
        ],
    )


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
