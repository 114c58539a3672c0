"""What roster and judges imports share: the result they report, units and people drafted from
the workbook and checked against the database before anything is written, and their writes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contest.db.models import (
    Component,
    Entry,
    EntryCoach,
    EntryMember,
    Item,
    Person,
    Unit,
)
from contest.domain import idcard
from contest.domain.roles import CHIEF_JUDGE, JUDGE
from contest.domain.scheme import (
    AGGREGATIONS,
    COMPONENT_KINDS,
    CRITERION_KINDS,
)
from contest.domain.text import N_, Text
from contest.rosters.parse import Problem, Problems, Row, Sheet, label_of
from contest.rosters.sheets import (
    GENDER,
    NAME,
)

GENDERS = {"男": "男", "女": "女"}
ITEM_TYPES = {"个人": False, "团队": True}
COMPONENT_BY_LABEL = {label: kind for kind, label in COMPONENT_KINDS.items()}
CRITERION_BY_LABEL = {label: kind for kind, label in CRITERION_KINDS.items()}
JUDGE_ROLE_BY_LABEL = {"裁判": JUDGE, "裁判长": CHIEF_JUDGE}
WEIGHT_COLUMNS = {kind: f"{label}权重" for kind, label in COMPONENT_KINDS.items()}
ALL_WEIGHTS = N_("理论权重、实操权重、答辩权重")  # the column of a problem with the weights as a whole
ITEM_LIST_SPLIT = re.compile(r"[、,,;;\s]+")
CHUNK = 500
_T = TypeVar("_T")
CONCURRENT = N_("导入时系统中的数据被同时修改(可能有人在同时导入),未导入任何数据,请重新上传")


def _aggregation_options() -> dict[str, str]:
    options: dict[str, str] = {}
    for key, label in AGGREGATIONS.items():
        options[label] = key
        short = re.split(r"[((]", label)[0]
        options.setdefault(short, key)
    return options


AGGREGATION_BY_LABEL = _aggregation_options()
AGGREGATION_SHOWN = {re.split(r"[((]", label)[0]: key for key, label in AGGREGATIONS.items()}


# ---------------------------------------------------------------- results


@dataclass
class Count:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def tally(self, existed: bool, changed: bool) -> None:
        if not existed:
            self.added += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    @property
    def changed(self) -> int:
        return self.added + self.updated


@dataclass
class ImportResult:
    kind: str  # "roster" or "judges"
    filename: str
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, Count] = field(default_factory=dict)
    kept_entries: int = 0  # entries in the database that the file does not list (left alone)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.counts.values())

    def summary(self) -> dict[str, dict[str, int]]:
        return {k: {"added": c.added, "updated": c.updated, "unchanged": c.unchanged} for k, c in self.counts.items()}


# ---------------------------------------------------------------- shared drafts


@dataclass
class UnitDraft:
    name: str
    code: str
    region: str
    contact: str
    row: Row


@dataclass
class PersonDraft:
    id_number: str
    name: str
    row: Row
    gender: str | None = None
    phone: str | None = None
    region: str | None = None
    is_employee: bool | None = None
    unit_name: str | None = None

    def merge(self, row: Row, name: str, gender: str | None, **rest: object) -> None:
        where = Text("{sheet}表第 {number} 行", sheet=label_of(self.row.sheet), number=self.row.number)
        if name != self.name:
            row.error(
                NAME, Text("同一证件号码在{where}的姓名为「{first}」,与本行「{name}」不一致", where=where, first=self.name, name=name)
            )
        if gender and self.gender and gender != self.gender:
            row.error(GENDER, Text("同一证件号码在{where}的性别为「{gender}」,与本行不一致", where=where, gender=self.gender))
        self.gender = self.gender or gender
        for key, value in rest.items():
            if value is not None and value != "" and getattr(self, key) in (None, ""):
                setattr(self, key, value)


class Context:
    """What the file refers to, loaded from the database before anything is written."""

    def __init__(self, db: AsyncSession, competition_id: int, problems: Problems) -> None:
        self.db = db
        self.competition_id = competition_id
        self.problems = problems
        self.units: dict[str, Unit] = {}
        self.unit_drafts: dict[str, UnitDraft] = {}
        self.people: dict[str, Person] = {}
        self.person_drafts: dict[str, PersonDraft] = {}
        self.items: dict[str, Item] = {}
        self.listed_codes: set[str] = set()  # every code on the 赛项 sheet, even on a bad row
        self.failed_scheme_codes: set[str] = set()  # codes with a bad 评分细则 row

    def item_known(self, code: str) -> bool:
        return code in self.items or code in self.listed_codes

    async def load_units(self, names: Iterable[str]) -> None:
        wanted = sorted({n for n in names if n})
        for chunk in chunks(wanted):
            for unit in (await self.db.execute(select(Unit).where(Unit.name.in_(chunk)))).scalars():
                self.units[unit.name] = unit

    async def load_people(self) -> None:
        numbers = sorted(self.person_drafts)
        for chunk in chunks(numbers):
            for person in (await self.db.execute(select(Person).where(Person.id_number.in_(chunk)))).scalars():
                self.people[person.id_number] = person

    async def load_items(self) -> None:
        statement = (
            select(Item)
            .where(Item.competition_id == self.competition_id)
            .options(selectinload(Item.components).selectinload(Component.criteria))
        )
        self.items = {item.skill_code: item for item in (await self.db.execute(statement)).scalars()}

    def unit_known(self, name: str) -> bool:
        return name in self.units or name in self.unit_drafts

    def check_unit(self, row: Row, column: str, name: str) -> None:
        if name and not self.unit_known(name):
            row.error(column, Text("单位「{name}」不存在:请在单位表中列出,或先在系统“单位”页面添加", name=name))

    def person(self, row: Row, name: str, number: str | None, gender: str | None, **rest: object) -> PersonDraft | None:
        if number is None or not name:
            return None
        draft = self.person_drafts.get(number)
        if draft is None:
            draft = PersonDraft(number, name, row, gender)
            for key, value in rest.items():
                setattr(draft, key, value if value != "" else None)
            self.person_drafts[number] = draft
        else:
            draft.merge(row, name, gender, **rest)
        return draft

    def check_people_against_db(self) -> None:
        for number, draft in self.person_drafts.items():
            stored = self.people.get(number)
            if stored is not None and stored.name != draft.name:
                draft.row.error(
                    NAME,
                    Text(
                        "该证件号码已登记为「{stored}」,与本行姓名「{name}」不一致;请核对证件号码,如需更正姓名请先在“人员”页面修改",
                        stored=stored.name,
                        name=draft.name,
                    ),
                )


def chunks(values: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def read_units(sheet: Sheet, ctx: Context) -> None:
    for row in sheet:
        name = row.required("单位名称")
        if not name:
            continue
        if name in ctx.unit_drafts:
            first = ctx.unit_drafts[name].row
            row.error("单位名称", Text("单位「{name}」在第 {row} 行已列出", name=name, row=first.number))
            continue
        ctx.unit_drafts[name] = UnitDraft(name, row.text("单位代码"), row.text("所在地区"), row.text("联系人"), row)


async def write_units(ctx: Context, count: Count) -> None:
    for name, draft in ctx.unit_drafts.items():
        unit = ctx.units.get(name)
        existed = unit is not None
        if unit is None:
            unit = Unit(name=name, code="", region="", contact="")
            ctx.db.add(unit)
            ctx.units[name] = unit
        changed = False
        for attr in ("code", "region", "contact"):
            value = getattr(draft, attr)
            if value and getattr(unit, attr) != value:
                setattr(unit, attr, value)
                changed = True
        count.tally(existed, changed)
    await ctx.db.flush()


def person_changes(person: Person, draft: PersonDraft, unit_id: int | None) -> dict[str, object]:
    wanted: dict[str, object] = {}
    if draft.gender is not None:
        wanted["gender"] = draft.gender
    if draft.phone is not None:
        wanted["phone"] = draft.phone
    if draft.region is not None:
        wanted["employment_region"] = draft.region
    if draft.is_employee is not None:
        wanted["is_employee"] = draft.is_employee
    if draft.unit_name is not None:
        wanted["unit_id"] = unit_id
    return {k: v for k, v in wanted.items() if getattr(person, k) != v}


async def write_people(ctx: Context, count: Count) -> None:
    for number, draft in ctx.person_drafts.items():
        person = ctx.people.get(number)
        existed = person is not None
        if person is None:
            person = Person(id_number=number, name=draft.name, gender="", phone="", employment_region="", is_employee=False)
            ctx.db.add(person)
            ctx.people[number] = person
        unit = ctx.units.get(draft.unit_name) if draft.unit_name else None
        changes = person_changes(person, draft, unit.id if unit else None)
        for key, value in changes.items():
            setattr(person, key, value)
        count.tally(existed, bool(changes))
    await ctx.db.flush()


def planned_person_changes(ctx: Context) -> bool:
    """Would writing the people change anything? (Units named by people may be new: that is a change too.)"""
    for number, draft in ctx.person_drafts.items():
        person = ctx.people.get(number)
        if person is None:
            return True
        unit = ctx.units.get(draft.unit_name) if draft.unit_name else None
        if draft.unit_name and unit is None:
            return True
        if person_changes(person, draft, unit.id if unit else None):
            return True
    return False


def planned_unit_changes(ctx: Context) -> bool:
    for name, draft in ctx.unit_drafts.items():
        unit = ctx.units.get(name)
        if unit is None:
            return True
        if any(getattr(draft, a) and getattr(unit, a) != getattr(draft, a) for a in ("code", "region", "contact")):
            return True
    return False


def sheet_order(specs: tuple) -> dict[str, int]:
    return {spec.name: i for i, spec in enumerate(specs)}


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def safe_filename(filename: str) -> str:
    """The file name for the audit log, with anything that looks like a 证件号码 masked."""
    return re.sub(r"\d{6,}[\dXx]?", lambda m: idcard.mask(m.group()), filename)[:200]


async def load_entries(ctx: Context) -> dict[tuple[str, str], Entry]:
    statement = (
        select(Entry)
        .join(Item, Item.id == Entry.item_id)
        .where(Item.competition_id == ctx.competition_id)
        .options(
            selectinload(Entry.unit),
            selectinload(Entry.members).selectinload(EntryMember.person),
            selectinload(Entry.coaches).selectinload(EntryCoach.person),
        )
    )
    code_of = {item.id: code for code, item in ctx.items.items()}
    return {(code_of[e.item_id], e.entry_no): e for e in (await ctx.db.execute(statement)).scalars()}
