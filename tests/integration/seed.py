"""A small competition for page tests: units, people, an item with a scheme, entries, a judge panel."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import update

from contest.audit.service import Actor
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Entry, EntryCoach, EntryMember, User
from contest.domain.idcard import check_digit
from contest.domain.scheme import ComponentSpec, CriterionSpec
from contest.events import service
from contest.events.service import CompetitionForm, ItemForm, PersonForm

ACTOR = Actor.system("tests")


def make_id(n: int, birth: str = "19900101") -> str:
    body = f"371002{birth}{n:03d}"
    return body + check_digit(body)


JUDGE_ID = make_id(901, "19700101")
CHIEF_ID = make_id(902, "19680101")
COMPETITOR_IDS = [make_id(i) for i in range(1, 5)]


def simple_scheme() -> list[ComponentSpec]:
    return [
        ComponentSpec("theory", Decimal(20), criteria=[CriterionSpec("T1", "理论", Decimal(100), Decimal("0.5"))]),
        ComponentSpec(
            "practical",
            Decimal(80),
            criteria=[
                CriterionSpec("P1", "外观", Decimal(60), Decimal("0.5")),
                CriterionSpec("P2", "工艺", Decimal(40), Decimal(1), "judgement", 3, "mean"),
            ],
        ),
    ]


async def seed_competition(database_url: str, judge_username: str | None = None, chief_username: str | None = None) -> dict[str, int]:
    """Returns the ids the tests use. Links the judge/chief user accounts to the panel's people."""
    engine = make_engine(database_url)
    async with make_session_factory(engine)() as db:
        comp = await service.save_competition(db, ACTOR, CompetitionForm("2026年测试市职业技能大赛", 2026, "municipal", 1))
        item = await service.save_item(db, ACTOR, comp.id, ItemForm("焊工", "6-18-02-04", "焊工"))
        await service.save_scheme(db, ACTOR, item.id, simple_scheme())
        unit_a = await service.save_unit(db, ACTOR, "甲单位")
        unit_b = await service.save_unit(db, ACTOR, "乙单位")
        people = [
            await service.save_person(db, ACTOR, PersonForm(number, f"选手{i}", unit_a.id if i % 2 == 0 else unit_b.id))
            for i, number in enumerate(COMPETITOR_IDS)
        ]
        judge = await service.save_person(db, ACTOR, PersonForm(JUDGE_ID, "裁判甲", unit_a.id))
        chief = await service.save_person(db, ACTOR, PersonForm(CHIEF_ID, "裁判长乙", None))
        entries: list[Entry] = []
        for i, person in enumerate(people):
            entry = Entry(item_id=item.id, entry_no=f"HG{i + 1:03d}", unit_id=person.unit_id)
            entry.members = [EntryMember(person_id=person.id)]
            db.add(entry)
            entries.append(entry)
        await db.commit()
        judge_assignment = await service.assign_judge(db, ACTOR, item.id, judge, "judge")
        await service.assign_judge(db, ACTOR, item.id, chief, "chief_judge")
        # A later roster change makes the chief a coach of HG004: assign_judge would refuse it now
        # (contest.domain.conflicts.panel_refusal); the item page still shows the conflict.
        db.add(EntryCoach(entry_id=entries[3].id, person_id=chief.id, is_lead=True))
        await db.commit()
        conflict = await service.declare_conflict(db, ACTOR, judge, people[1], "亲属")
        for username, person in ((judge_username, judge), (chief_username, chief)):
            if username:
                await db.execute(update(User).where(User.username == username).values(person_id=person.id))
        await db.commit()
        ids = {
            "competition_id": comp.id,
            "item_id": item.id,
            "assignment_id": judge_assignment.id,
            "conflict_id": conflict.id,
            "unit_id": unit_a.id,
        }
    await engine.dispose()
    return ids


def seed(database_url: str, **kwargs: str) -> dict[str, int]:
    return asyncio.run(seed_competition(database_url, **kwargs))
