"""A competition ready for live scoring: a drawn item open for scoring, a panel of judges with accounts.

Item 1 (焊工, individual): T1 theory 100 (measurement); P1 practical 60 (measurement), P2 practical
40 (judgement, panel 3, mean). Weights 20/80. Entries: 4, two from 甲单位, two from 乙单位.
Judges (丙单位, neutral): ja, jb, jc; jx belongs to 甲单位 (conflicted with two entries); the chief
"cj" is 裁判长. Item 2 (电工) has its own judge "jo" and stays in setup.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from contest.accounts.service import create_user
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Entry, EntryMember, Item
from contest.events import service
from contest.events.service import CompetitionForm, ItemForm, PersonForm
from contest.live import actions
from tests.conftest import PASSWORD
from tests.integration.seed import ACTOR, make_id, simple_scheme


@dataclass
class Live:
    competition_id: int
    item_id: int
    other_item_id: int
    criteria: dict[str, int]  # code -> id
    stations: dict[str, int]  # unit name -> stations of its entries, as "甲1", "甲2", "乙1", "乙2"


async def _seed(url: str) -> Live:
    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        comp = await service.save_competition(db, ACTOR, CompetitionForm("2026年直播测试大赛", 2026, "municipal", 1, show_provisional=True))
        item = await service.save_item(db, ACTOR, comp.id, ItemForm("焊工", "6-18-02-04", "焊工"))
        other = await service.save_item(db, ACTOR, comp.id, ItemForm("电工", "6-31-01-03", "电工"))
        for target in (item, other):
            await service.save_scheme(db, ACTOR, target.id, simple_scheme())
        units = {name: await service.save_unit(db, ACTOR, name) for name in ("甲单位", "乙单位", "丙单位")}
        labels = {}
        for i, (label, unit) in enumerate((("甲1", "甲单位"), ("甲2", "甲单位"), ("乙1", "乙单位"), ("乙2", "乙单位"))):
            person = await service.save_person(db, ACTOR, PersonForm(make_id(100 + i), f"选手{label}", units[unit].id))
            entry = Entry(item_id=item.id, entry_no=f"HG{i + 1:03d}", unit_id=units[unit].id)
            entry.members = [EntryMember(person_id=person.id)]
            db.add(entry)
            labels[entry.entry_no] = label
        other_person = await service.save_person(db, ACTOR, PersonForm(make_id(200), "电工选手", units["乙单位"].id))
        other_entry = Entry(item_id=other.id, entry_no="DG001", unit_id=units["乙单位"].id)
        other_entry.members = [EntryMember(person_id=other_person.id)]
        db.add(other_entry)
        await db.commit()
        panel = (
            ("ja", "丙单位", "judge", item),
            ("jb", "丙单位", "judge", item),
            ("jc", "丙单位", "judge", item),
            ("jx", "甲单位", "judge", item),
            ("cj", "丙单位", "chief_judge", item),
            ("jo", "丙单位", "judge", other),
        )
        for n, (username, unit, role, target) in enumerate(panel):
            person = await service.save_person(db, ACTOR, PersonForm(make_id(300 + n, "19700101"), f"裁判{username}", units[unit].id))
            await service.assign_judge(db, ACTOR, target.id, person, role)
            await create_user(db, ACTOR, username, PASSWORD, "chief_judge" if role == "chief_judge" else "judge", person_id=person.id)
            await db.commit()
        await service.run_draw(db, ACTOR, item.id, seed="live-test")
        await service.run_draw(db, ACTOR, other.id, seed="live-test")
        await actions.open_scoring(db, ACTOR, item.id)
        stations: dict[str, int] = {
            labels[no]: station
            for no, station in (await db.execute(select(Entry.entry_no, Entry.station_no).where(Entry.item_id == item.id))).all()
            if station is not None  # drawn above: every entry has one
        }
        fresh = await service.get_item(db, item.id)
        criteria = {k.code: k.id for c in fresh.components for k in c.criteria}
    await engine.dispose()
    return Live(comp.id, item.id, other.id, criteria, stations)


def seed_live(url: str) -> Live:
    return asyncio.run(_seed(url))


async def _item_status(url: str, item_id: int) -> str:
    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        status = (await db.execute(select(Item.status).where(Item.id == item_id))).scalar_one()
    await engine.dispose()
    return status
