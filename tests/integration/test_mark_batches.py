"""Marks stored in batches (live.service.store_marks, live.writer.MarkWriter): one transaction per
batch with the outcomes the marks would have had one by one, sequence numbers only for stored marks."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event, func, select, text

from contest.audit.service import verify_chain
from contest.db.engine import make_engine, make_session_factory
from contest.db.migrate import upgrade
from contest.db.models import AuditRecord, Component, Criterion, Item, JudgeAssignment, Mark, MarkSubmission, Person, User
from contest.events import service as events_service
from contest.live import actions
from contest.live.service import Ack, Judge, MarkIn, MarkRefused, store_marks
from contest.live.writer import MarkWriter
from tests.integration.live_seed import Live, seed_live
from tests.integration.seed import ACTOR


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


async def _judges(db) -> dict[str, Judge]:
    users = (await db.execute(select(User).where(User.person_id.is_not(None)))).scalars()
    return {u.username: Judge(u.id, u.username, u.person_id, "test") for u in users}


def _mark(live: Live, client_id: str, station: str, code: str, value: str) -> MarkIn:
    return MarkIn(client_id, live.item_id, live.stations[station], live.criteria[code], value)


def _summary(outcome) -> tuple:
    if isinstance(outcome, MarkRefused):
        return ("refused", outcome.code)
    ack, competition_id = outcome
    assert isinstance(ack, Ack)
    return (ack.status, ack.value, ack.seq, competition_id is not None)


async def _count(db, model) -> int:
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def _item_seq(db, item_id: int) -> int:
    return (await db.execute(select(Item.seq).where(Item.id == item_id))).scalar_one()


def test_a_batch_has_the_outcomes_of_one_by_one(live, migrated) -> None:
    async def run() -> None:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            j = await _judges(db)
            before = await _item_seq(db, live.item_id)
            audit_before = await _count(db, AuditRecord)
            batch = [
                (j["ja"], _mark(live, "client-01", "乙1", "P1", "50")),  # stored
                (j["ja"], _mark(live, "client-01", "乙1", "P1", "50")),  # the same client_id again: a duplicate of it
                (j["jb"], _mark(live, "client-02", "乙1", "P1", "40")),  # measurement taken by ja in this batch
                (j["ja"], _mark(live, "client-03", "乙1", "P2", "30")),  # stored
                (j["ja"], _mark(live, "client-04", "乙1", "P2", "35")),  # ja changes that cell in the same batch
                (j["jb"], _mark(live, "client-05", "乙1", "P2", "41")),  # out of range (max 40)
                (j["jx"], _mark(live, "client-06", "甲1", "P2", "20")),  # jx is of 甲单位: conflict
                (j["jb"], _mark(live, "client-01", "乙2", "P1", "10")),  # ja's client_id
                (j["jb"], _mark(live, "client-07", "乙1", "P2", "36")),  # stored
                (j["jc"], _mark(live, "client-08", "乙1", "P2", "37")),  # stored: the panel of 3 is full now
                (j["jx"], _mark(live, "client-09", "乙1", "P2", "38")),  # panel full
                (j["ja"], MarkIn("client-10", live.other_item_id, 1, live.criteria["P1"], "1")),  # item in setup
                (j["ja"], _mark(live, "client-11", "乙1", "P2", "abc")),  # not a number
            ]
            outcomes = [_summary(o) for o in await store_marks(db, batch)]
            assert outcomes == [
                ("stored", "50", before + 1, True),
                ("duplicate", "50", before + 1, False),
                ("refused", "taken"),
                ("stored", "30", before + 2, True),
                ("stored", "35", before + 3, True),
                ("refused", "out_of_range"),
                ("refused", "conflict"),
                ("refused", "client_id_reused"),
                ("stored", "36", before + 4, True),
                ("stored", "37", before + 5, True),
                ("refused", "panel_full"),
                ("refused", "item_closed"),
                ("refused", "not_a_number"),
            ]
            # the item's seq grew by exactly the marks stored; refusals and duplicates took none
            assert await _item_seq(db, live.item_id) == before + 5
            rows = (await db.execute(select(Mark.judge_person_id, Mark.criterion_id, Mark.value, Mark.seq, Mark.client_id))).all()
            assert sorted((str(v), s, c) for _, _, v, s, c in rows) == [
                ("35.00", before + 3, "client-04"),
                ("36.00", before + 4, "client-07"),
                ("37.00", before + 5, "client-08"),
                ("50.00", before + 1, "client-01"),
            ]
            submissions = (await db.execute(select(MarkSubmission.client_id, MarkSubmission.seq).order_by(MarkSubmission.seq))).all()
            assert [tuple(s) for s in submissions] == [
                ("client-01", before + 1),
                ("client-03", before + 2),
                ("client-04", before + 3),
                ("client-07", before + 4),
                ("client-08", before + 5),
            ]
            audit = (await db.execute(select(AuditRecord).where(AuditRecord.id > audit_before).order_by(AuditRecord.id))).scalars().all()
            assert [(a.action, a.detail["client_id"], a.detail["old"], a.detail["new"]) for a in audit] == [
                ("mark.set", "client-01", None, "50"),
                ("mark.set", "client-03", None, "30"),
                ("mark.set", "client-04", "30", "35"),
                ("mark.set", "client-07", None, "36"),
                ("mark.set", "client-08", None, "37"),
            ]
            checked, problems = await verify_chain(db)
            assert checked > len(audit) and problems == []
        await engine.dispose()

    asyncio.run(run())


def test_a_batch_of_refusals_changes_nothing(live, migrated) -> None:
    async def run() -> None:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            j = await _judges(db)
            before = await _item_seq(db, live.item_id)
            audit_before = await _count(db, AuditRecord)
            batch = [
                (j["jx"], _mark(live, "client-21", "甲2", "P1", "10")),
                (j["jo"], _mark(live, "client-22", "乙1", "P1", "10")),  # jo is not on this item's panel
                (j["ja"], _mark(live, "client-23", "乙1", "P1", "10.3")),  # off the 0.5 step
                (j["ja"], MarkIn("client-24", live.item_id, 999, live.criteria["P1"], "1")),
                (j["ja"], MarkIn("client-25", live.item_id, live.stations["乙1"], 999_999, "1")),
                (j["ja"], MarkIn("client-26", 999_999, 1, live.criteria["P1"], "1")),
            ]
            codes = [o.code if isinstance(o, MarkRefused) else o for o in await store_marks(db, batch)]
            assert codes == ["conflict", "not_assigned", "off_step", "unknown_station", "unknown_criterion", "unknown_item"]
            assert await _item_seq(db, live.item_id) == before
            assert await _count(db, Mark) == 0
            assert await _count(db, MarkSubmission) == 0
            assert await _count(db, AuditRecord) == audit_before
        await engine.dispose()

    asyncio.run(run())


def test_the_writer_batches_what_queued_and_a_failing_mark_fails_alone(live, migrated) -> None:
    """Marks submitted together are written in one transaction. A mark the database rejects (here a
    real trigger stands for, say, a unique key raced by another process) fails that batch; the writer
    then stores the others one by one, and only that mark gets the error."""

    async def run() -> None:
        engine = make_engine(migrated.database_url)
        factory = make_session_factory(engine)
        async with factory() as db:
            j = await _judges(db)
        writer = MarkWriter(factory, migrated.database_url)
        stations, codes = ["甲1", "甲2", "乙1", "乙2"], ["T1", "P1", "P2"]
        marks = [(j[judge], _mark(live, f"batch-{judge}-{s}-{c}", s, c, "20")) for judge in ("ja", "jb") for s in stations for c in codes]
        outcomes = await asyncio.gather(*(writer.submit(judge, mark) for judge, mark in marks))
        summary = [_summary(o)[0] if not isinstance(o, MarkRefused) else o.code for o in outcomes]
        assert summary.count("stored") == 4 * 3 + 4  # ja everything; jb only the judgement criterion P2
        assert summary.count("taken") == 8  # jb on the measurement criteria ja took first
        assert writer.transactions == 1

        async with factory() as db:
            await db.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON mark_submissions WHEN NEW.client_id = 'poison-0001' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )
            await db.commit()
        more = [
            (j["jc"], _mark(live, "healthy-01", "甲1", "P2", "5")),
            (j["jc"], _mark(live, "poison-0001", "甲2", "P2", "6")),
            (j["jc"], _mark(live, "healthy-02", "乙1", "P2", "7")),
        ]
        results = await asyncio.gather(*(writer.submit(judge, mark) for judge, mark in more), return_exceptions=True)
        healthy = [r for r in (results[0], results[2]) if isinstance(r, tuple)]
        assert [ack.status for ack, _ in healthy] == ["stored", "stored"]
        assert isinstance(results[1], Exception) and "poisoned" in str(results[1])
        assert writer.transactions == 1 + 1 + 3  # the failed batch of three, then each alone
        async with factory() as db:
            stored = set((await db.execute(select(MarkSubmission.client_id).where(MarkSubmission.client_id.like("%-0%")))).scalars())
            assert stored == {"healthy-01", "healthy-02"}
        await writer.stop()
        await engine.dispose()

    asyncio.run(run())


def test_the_writer_keeps_facts_between_batches_and_sees_every_change_made_by_others(live, migrated) -> None:
    """The SQLite writer's FactsCache: a second batch reads fewer statements (the item's judges,
    stations, criteria, conflicts come from the first), yet an override granted, or a relation a judge
    declares, on another connection between two batches is seen by the very next one."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread().name.startswith("mark-writer"):
            statements.append(statement)

    async def run() -> None:
        engine = make_engine(migrated.database_url)
        factory = make_session_factory(engine)
        async with factory() as db:
            j = await _judges(db)
            jx_seat = (await db.execute(select(JudgeAssignment.seat).where(JudgeAssignment.person_id == j["jx"].person_id))).scalar_one()
            jb = (await db.execute(select(Person).where(Person.id == j["jb"].person_id))).scalar_one()
            competitor = (await db.execute(select(Person).where(Person.name == "选手乙2"))).scalar_one()
        writer = MarkWriter(factory, migrated.database_url)
        assert writer.facts is not None
        event.listen(writer._sync_engine, "before_cursor_execute", count)  # the writer's own connection
        try:
            first = await writer.submit(j["jx"], _mark(live, "cache-01", "甲1", "P2", "20"))
            assert isinstance(first, MarkRefused) and first.code == "conflict"  # jx is of 甲单位
            cold = len(statements)
            statements.clear()
            again = await writer.submit(j["jx"], _mark(live, "cache-02", "甲1", "P2", "21"))
            assert isinstance(again, MarkRefused) and again.code == "conflict"  # still, now from the cache
            assert writer.facts.loads == 1 and len(statements) <= cold - 6, (cold, statements)  # the item was read once

            async with factory() as db:  # another connection grants the override and commits
                await actions.override_conflict(db, ACTOR, live.item_id, jx_seat, live.stations["甲1"], "回避豁免:裁判不足")
            stored = await writer.submit(j["jx"], _mark(live, "cache-03", "甲1", "P2", "22"))
            assert _summary(stored)[0] == "stored", stored

            ok = await writer.submit(j["jb"], _mark(live, "cache-04", "乙2", "P2", "30"))
            assert _summary(ok)[0] == "stored", ok
            async with factory() as db:  # jb declares a relation with 乙2's competitor mid-competition
                await events_service.declare_conflict(db, ACTOR, jb, competitor, "亲属关系")
            refused = await writer.submit(j["jb"], _mark(live, "cache-05", "乙2", "P2", "31"))
            assert isinstance(refused, MarkRefused) and refused.code == "conflict"
        finally:
            await writer.stop()
            await engine.dispose()

    asyncio.run(run())


def test_postgresql_two_batches_over_the_same_items_in_opposite_orders(pg_url) -> None:
    """Two processes' batches lock their items in id order: no deadlock, and one client_id sent to both
    is stored once."""
    upgrade(pg_url)
    live = seed_live(pg_url)

    async def run() -> None:
        engine = make_engine(pg_url)
        factory = make_session_factory(engine)
        async with factory() as db:
            await actions.open_scoring(db, ACTOR, live.other_item_id)
            j = await _judges(db)
            other_p1 = (
                await db.execute(
                    select(Criterion.id).join(Component).where(Component.item_id == live.other_item_id, Criterion.code == "P1")
                )
            ).scalar_one()
        first = (j["ja"], _mark(live, "shared-0001", "乙1", "P1", "12"))
        other = (j["jo"], MarkIn("other-0001", live.other_item_id, 1, other_p1, "3"))
        for _ in range(5):
            async with factory() as a, factory() as b:
                one, two = await asyncio.gather(store_marks(a, [first, other]), store_marks(b, [other, first]))
            statuses = sorted(_summary(o)[0] for o in [*one, *two])
            assert statuses in (["duplicate", "duplicate", "stored", "stored"], ["duplicate"] * 4)
        async with factory() as db:
            count = await _count(db, MarkSubmission)
            assert count == 2
        await engine.dispose()

    asyncio.run(run())
