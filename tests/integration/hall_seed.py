"""A hall-sized item for the big screen: 30 entries from units with long names, scored by a panel
of three through the judges' mark service, then locked, revealed and published (the real services).

Item 数控车工 (individual, the live seed's scheme: T1 theory 100; P1 60 and P2 40 practical, P2 a
panel of 3). Judges "ha", "hb", "hc" (a neutral unit). Totals are all different (no ties).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from contest.accounts.service import create_user
from contest.audit.service import Actor
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Entry, EntryMember
from contest.events import service
from contest.events.service import CompetitionForm, ItemForm, PersonForm
from contest.live import actions
from contest.live.service import Judge, MarkIn, submit_mark
from contest.results import service as results_service
from tests.conftest import PASSWORD
from tests.integration.seed import make_id, simple_scheme

ACTOR = Actor.system("tests")
UNITS = [
    "威海市文登区职业中等专业学校",
    "山东威高集团有限公司",
    "荣成市高级技工学校",
    "威海职业学院",
    "乳山市职业中等专业学校",
    "威海技师学院",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
GIVEN = ["伟", "秀英", "敏", "静", "丽娟", "强", "磊", "军", "洋", "艳"]
ENTRIES = 30


@dataclass
class Hall:
    competition_id: int
    item_id: int
    names: list[str]  # in entry order


async def _seed(url: str) -> Hall:
    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        form = CompetitionForm("2026年威海市职业技能大赛", 2026, "municipal", 1, show_provisional=True)
        comp = await service.save_competition(db, ACTOR, form)
        item = await service.save_item(db, ACTOR, comp.id, ItemForm("数控车工", "6-18-01-01", "车工"))
        await service.save_scheme(db, ACTOR, item.id, simple_scheme())
        units = [await service.save_unit(db, ACTOR, name) for name in UNITS]
        neutral = await service.save_unit(db, ACTOR, "威海市职业技能鉴定中心")
        names = []
        for i in range(ENTRIES):
            name = SURNAMES[i] + GIVEN[i % len(GIVEN)]
            person = await service.save_person(db, ACTOR, PersonForm(make_id(400 + i), name, units[i % len(units)].id))
            entry = Entry(item_id=item.id, entry_no=f"CC{i + 1:03d}", unit_id=person.unit_id)
            entry.members = [EntryMember(person_id=person.id)]
            db.add(entry)
            names.append(name)
        await db.commit()
        judges = []
        for n, username in enumerate(("ha", "hb", "hc")):
            person = await service.save_person(db, ACTOR, PersonForm(make_id(480 + n, "19700101"), f"裁判{username}", neutral.id))
            await service.assign_judge(db, ACTOR, item.id, person, "judge")
            user = await create_user(db, ACTOR, username, PASSWORD, "judge", person_id=person.id)
            await db.commit()
            judges.append(Judge(user.id, username, person.id))
        await service.run_draw(db, ACTOR, item.id, seed="hall-test")
        await actions.open_scoring(db, ACTOR, item.id)
        criteria = {k.code: k.id for c in (await service.get_item(db, item.id)).components for k in c.criteria}
        stations = (await db.execute(select(Entry.station_no).where(Entry.item_id == item.id).order_by(Entry.entry_no))).scalars().all()
        for i, station in enumerate(stations):
            assert station is not None
            # distinct totals: T1 and P1 step through their range, P2 the same from each judge
            marks = [(judges[0], "T1", 40 + 2 * i), (judges[0], "P1", 30 + i % 30)] + [(j, "P2", 10 + (i * 7) % 30) for j in judges]
            for judge, code, value in marks:
                ack, _ = await submit_mark(db, judge, MarkIn(str(uuid.uuid4()), item.id, station, criteria[code], str(value)))
                assert ack.status == "stored", ack
        await actions.lock(db, ACTOR, item.id, "裁判长")
        await actions.reveal(db, ACTOR, item.id)
        await results_service.publish(db, ACTOR, item.id)
    await engine.dispose()
    return Hall(comp.id, item.id, names)


def seed_hall(url: str) -> Hall:
    return asyncio.run(_seed(url))
