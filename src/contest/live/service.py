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


class FactsCache:
    """The facts a mark's checks read that only someone else's write can change: judges' assignments,
    stations, criteria, conflict overrides, judges' units and declared relations, entries' members
    and coaches. Kept by the SQLite writer between batches, and trusted only while no other
    connection has committed anything to the database: SQLite's ``PRAGMA data_version`` (read under
    the batch's write lock, so nobody can commit until our commit) changes with every commit made by
    another connection, and then everything is forgotten. An override granted, a judge reassigned or
    a roster corrected is therefore seen by the very next batch, exactly as without the cache; what
    the cache saves is re-reading them for each of the many batches in between (most of a batch's
    reads: bench/results/live.md). Negative answers are kept too (a station that does not exist).
    """

    def __init__(self) -> None:
        self._connection: object | None = None
        self._version: int | None = None
        self.hits = 0  # facts answered from the cache (for tests and benches)
        self.clear()

    def clear(self) -> None:
        self._assigned: dict[tuple[int, int], bool] = {}
        self._entries: dict[tuple[int, int], tuple[int, int] | None] = {}
        self._criteria: dict[int, tuple[int, CriterionRule] | None] = {}
        self._overridden: dict[tuple[int, int, int], bool] = {}
        self._judges: dict[int, JudgeFacts] = {}
        self._entry_facts: dict[int, EntryFacts] = {}

    def validate(self, db: Session) -> None:
        """Forget everything if another connection has committed since the last batch (SQLite only)."""
        connection = db.connection().connection.dbapi_connection
        version = db.execute(text("PRAGMA data_version")).scalar_one()
        if connection is not self._connection or version != self._version:
            self.clear()
            self._connection, self._version = connection, version

    def _missing(self, known: dict, keys: set) -> set:
        missing = {key for key in keys if key not in known}
        self.hits += len(keys) - len(missing)
        return missing

    def assigned(self, db: Session, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (item, judge person) pairs that are assignments."""
        missing = self._missing(self._assigned, pairs)
        if missing:
            # Each pair of columns as two INs (a superset, narrowed here): SQLite scans the whole table
            # for a row-value IN, but searches an index for a plain one.
            rows = db.execute(
                select(JudgeAssignment.item_id, JudgeAssignment.person_id).where(
                    JudgeAssignment.item_id.in_({i for i, _ in missing}), JudgeAssignment.person_id.in_({p for _, p in missing})
                )
            )
            found = set(rows.all())
            self._assigned.update((pair, pair in found) for pair in missing)
        return {pair for pair in pairs if self._assigned[pair]}

    def entries(self, db: Session, stations: set[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
        """(item, station) -> (entry, unit), for the stations that exist."""
        missing = self._missing(self._entries, stations)
        if missing:
            rows = db.execute(
                select(Entry.item_id, Entry.station_no, Entry.id, Entry.unit_id).where(
                    Entry.item_id.in_({i for i, _ in missing}), Entry.station_no.in_({s for _, s in missing})
                )
            )
            found = {(item_id, station): (entry_id, unit_id) for item_id, station, entry_id, unit_id in rows.all()}
            self._entries.update((key, found.get(key)) for key in missing)
        return {key: entry for key in stations if (entry := self._entries[key]) is not None}

    def criteria(self, db: Session, criterion_ids: set[int]) -> dict[int, tuple[int, CriterionRule]]:
        """criterion -> (its item, the criterion), for those that exist."""
        missing = self._missing(self._criteria, criterion_ids)
        if missing:
            rows = db.execute(select(Component.item_id, Criterion).join(Component).where(Criterion.id.in_(missing)))
            # Plain rules, not ORM objects: these outlive the session (and its rollbacks) that read them.
            rules = {criterion.id: (item_id, _rule(criterion)) for item_id, criterion in rows.all()}
            self._criteria.update((key, rules.get(key)) for key in missing)
        return {key: rule for key in criterion_ids if (rule := self._criteria[key]) is not None}

    def overridden(self, db: Session, wanted: set[tuple[int, int, int]]) -> set[tuple[int, int, int]]:
        """The (item, judge person, entry) triples a chief judge has granted an override for."""
        missing = self._missing(self._overridden, wanted)
        if missing:
            rows = db.execute(
                select(ConflictOverride.item_id, ConflictOverride.judge_person_id, ConflictOverride.entry_id).where(
                    ConflictOverride.entry_id.in_({e for _, _, e in missing}),
                    ConflictOverride.judge_person_id.in_({j for _, j, _ in missing}),
                )
            )
            found = set(rows.all())
            self._overridden.update((key, key in found) for key in missing)
        return {key for key in wanted if self._overridden[key]}

    def judges(self, db: Session, person_ids: set[int]) -> dict[int, JudgeFacts]:
        """Each judge's unit and declared relations."""
        missing = self._missing(self._judges, person_ids)
        if missing:
            declared: dict[int, set[int]] = defaultdict(set)
            rows = db.execute(
                select(DeclaredConflict.judge_person_id, DeclaredConflict.other_person_id).where(
                    DeclaredConflict.judge_person_id.in_(missing)
                )
            )
            for judge_id, other_id in rows.all():
                declared[judge_id].add(other_id)
            units = db.execute(select(Person.id, Person.unit_id).where(Person.id.in_(missing)))
            self._judges.update((p, JudgeFacts(p, unit, frozenset(declared[p]))) for p, unit in units.all())
        return {p: self._judges[p] for p in person_ids if p in self._judges}

    def entry_facts(self, db: Session, entries: set[tuple[int, int]]) -> dict[int, EntryFacts]:
        """entry -> its unit, members (and their units) and coaches; ``entries``: (entry, unit) pairs."""
        units = dict(entries)
        missing = self._missing(self._entry_facts, set(units))
        if missing:
            members: dict[int, list[tuple[int, int | None]]] = defaultdict(list)  # entry -> [(person, unit)]
            rows = db.execute(
                select(EntryMember.entry_id, EntryMember.person_id, Person.unit_id).join(Person).where(EntryMember.entry_id.in_(missing))
            )
            for entry_id, person_id, unit_id in rows.all():
                members[entry_id].append((person_id, unit_id))
            coaches: dict[int, set[int]] = defaultdict(set)
            coach_rows = db.execute(select(EntryCoach.entry_id, EntryCoach.person_id).where(EntryCoach.entry_id.in_(missing)))
            for entry_id, person_id in coach_rows.all():
                coaches[entry_id].add(person_id)
            for entry_id in missing:
                self._entry_facts[entry_id] = EntryFacts(
                    unit_id=units[entry_id],
                    member_person_ids=frozenset(p for p, _ in members[entry_id]),
                    member_unit_ids=frozenset(u for _, u in members[entry_id] if u),
                    coach_person_ids=frozenset(coaches[entry_id]),
                )
        return {entry_id: self._entry_facts[entry_id] for entry_id in units}


class _BatchChecks:
    """The facts one batch's checks need, read under the items' lock with grouped queries, and the
    cells as this batch changes them (a second mark on a cell sees the first)."""

    def __init__(self) -> None:
        self.items: dict[int, tuple[str, int]] = {}
        self.submissions: dict[str, tuple[int, Decimal, int]] = {}  # client_id -> (judge, value, seq)
        self.in_batch: dict[str, _Stored] = {}
        self.assigned: set[tuple[int, int]] = set()  # (item, judge person)
        self.entries: dict[tuple[int, int], tuple[int, int]] = {}  # (item, station) -> (entry, unit)
        self.criteria: dict[int, tuple[int, CriterionRule]] = {}  # criterion -> (item, its rule)
        self.overridden: set[tuple[int, int, int]] = set()  # (item, judge person, entry)
        self.judge_facts: dict[int, JudgeFacts] = {}  # judge person -> unit and declared relations
        self.entry_facts: dict[int, EntryFacts] = {}  # entry -> unit, members, coaches
        self.cells: dict[tuple[int, int], list[Mark]] = defaultdict(list)  # (entry, criterion) -> marks

    @classmethod
    def load(
        cls, db: Session, batch: Sequence[tuple[Judge, MarkIn]], items: dict[int, tuple[str, int]], facts: FactsCache | None = None
    ) -> _BatchChecks:
        checks = cls()
        checks.items = items
        marks = [mark for _, mark in batch]
        judges = {judge.person_id for judge, _ in batch}
        rows: Result[*tuple[Any, ...]] = db.execute(
            select(MarkSubmission.client_id, MarkSubmission.judge_person_id, MarkSubmission.value, MarkSubmission.seq).where(
                MarkSubmission.client_id.in_({m.client_id for m in marks})
            )
        )
        checks.submissions = {client_id: (judge, value, seq) for client_id, judge, value, seq in rows.all()}
        pairs = {(m.item_id, judge.person_id) for judge, m in batch if m.item_id in items}
        if not pairs:
            return checks
        if facts is None:
            facts = FactsCache()  # this batch's own: everything is read
        else:
            facts.validate(db)
        checks.assigned = facts.assigned(db, pairs)
        checks.entries = facts.entries(db, {(m.item_id, m.station) for m in marks if m.item_id in items})
        checks.criteria = facts.criteria(db, {m.criterion_id for m in marks})
        if not checks.entries:
            return checks
        wanted = {
            (m.item_id, judge.person_id, checks.entries[(m.item_id, m.station)][0])
            for judge, m in batch
            if (m.item_id, m.station) in checks.entries
        }
        checks.overridden = facts.overridden(db, wanted)
        checks.judge_facts = facts.judges(db, judges)
        checks.entry_facts = facts.entry_facts(db, set(checks.entries.values()))
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
            raise MarkRefused("item_closed", "该赛项已锁定,不再接受评分" if status != SETUP else "该赛项尚未开始评分")
        if (mark.item_id, judge.person_id) not in self.assigned:
            raise MarkRefused("not_assigned")
        entry = self.entries.get((mark.item_id, mark.station))
        if entry is None:
            raise MarkRefused("unknown_station", f"工位号 {mark.station} 不存在")
        entry_id, _ = entry
        item_id, criterion = self.criteria.get(mark.criterion_id, (None, None))
        if criterion is None or item_id != mark.item_id:
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
        if (item_id, judge_person_id, entry_id) in self.overridden:
            return False
        return bool(conflict_reasons(self.judge_facts[judge_person_id], self.entry_facts[entry_id]))


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
