"""Setup services: each write is validated, audited and committed in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contest.audit.service import Actor, record
from contest.db.models import (
    Competition,
    Component,
    Criterion,
    DeclaredConflict,
    Draw,
    Entry,
    EntryCoach,
    EntryMember,
    Item,
    JudgeAssignment,
    LoginLink,
    Mark,
    Person,
    ResultVersion,
    Unit,
    User,
    utcnow,
)
from contest.domain import allowed, idcard, limits
from contest.domain.competition import (
    BOARD_INTERVAL_DEFAULT,
    board_interval_problem,
    competition_problems,
    excellence_fraction_problem,
    item_problems,
)
from contest.domain.conflicts import EntryFacts, EntryPeople, JudgeFacts, conflict_reasons, panel_refusal, taking_part
from contest.domain.draw import draw_stations, new_seed
from contest.domain.lifecycle import SETUP
from contest.domain.roles import CHIEF_JUDGE, JUDGE, PANEL_ROLES
from contest.domain.scheme import ComponentSpec, CriterionSpec, validate_scheme
from contest.domain.text import N_, Text, message_of
from contest.errors import Conflict, FormConflict, FormInvalid, Invalid, NotFound

# ---------------------------------------------------------------- competitions


@dataclass
class CompetitionForm:
    name: str
    year: int | None
    level: str
    category: int | None
    policy_id: str = ""
    organizer: str = ""
    start_date: date | None = None
    end_date: date | None = None
    show_provisional: bool = False
    appeal_hours: int = 2
    appeal_contact: str = ""
    board_interval: int = BOARD_INTERVAL_DEFAULT

    def field_errors(self) -> dict[str, str]:
        """A message per form field that is wrong (named as the form names it)."""
        errors = competition_problems(self.name, self.year, self.level, self.category)
        for key, field in (
            ("name", limits.COMPETITION_NAME),
            ("organizer", limits.ORGANIZER),
            ("policy_id", limits.POLICY_ID),
            ("appeal_contact", limits.APPEAL_CONTACT),
        ):
            if problem := field.problem(str(getattr(self, key)).strip()):
                errors.setdefault(key, problem)
        if not 0 <= self.appeal_hours <= 720:
            errors["appeal_hours"] = N_("申诉时限应在 0 到 720 小时之间")
        if problem := board_interval_problem(self.board_interval):
            errors["board_interval"] = problem
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = N_("结束日期不能早于开始日期")
        return errors

    def errors(self) -> list[str]:
        return list(self.field_errors().values())


async def list_competitions(db: AsyncSession) -> list[Competition]:
    return list((await db.execute(select(Competition).order_by(Competition.year.desc(), Competition.id.desc()))).scalars())


async def get_competition(db: AsyncSession, competition_id: int) -> Competition:
    competition = (
        await db.execute(
            select(Competition)
            .where(Competition.id == competition_id)
            .options(selectinload(Competition.items))
            .execution_options(populate_existing=True)  # a session that just created items must see them
        )
    ).scalar_one_or_none()
    if competition is None:
        raise NotFound(Text("赛事 {competition_id} 不存在", competition_id=competition_id))
    return competition


async def save_competition(db: AsyncSession, actor: Actor, form: CompetitionForm, competition_id: int | None = None) -> Competition:
    if errors := form.field_errors():
        raise FormInvalid("赛事信息有误", errors)
    if competition_id is None:
        competition = Competition()
        db.add(competition)
    else:
        competition = await get_competition(db, competition_id)
    for key, value in form.__dict__.items():
        setattr(competition, key, value.strip() if isinstance(value, str) else value)
    await db.flush()
    await record(db, actor, "competition.save", "competition", competition.id, {k: v for k, v in form.__dict__.items()})
    await db.commit()
    return competition


async def competition_delete_refusal(db: AsyncSession, competition_id: int) -> str | None:
    items = (await db.execute(select(func.count()).select_from(Item).where(Item.competition_id == competition_id))).scalar_one()
    return allowed.delete_competition(items)


async def delete_competition(db: AsyncSession, actor: Actor, competition_id: int) -> str:
    """Delete a competition nothing depends on (no items); audited. Returns its name."""
    competition = await get_competition(db, competition_id)
    if problem := await competition_delete_refusal(db, competition_id):
        raise Conflict(problem, code="has_dependents")
    name = competition.name
    await record(db, actor, "competition.delete", "competition", competition_id, {"name": name, "year": competition.year})
    await db.delete(competition)
    await db.commit()
    return name


# ---------------------------------------------------------------- items and schemes


@dataclass
class ItemDependents:
    entries: int
    marks: int
    versions: int
    judges: int
    criteria: int


async def item_dependents(db: AsyncSession, item_id: int) -> ItemDependents:
    async def count(model: Any, *where: Any) -> int:
        return int((await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    return ItemDependents(
        entries=await count(Entry, Entry.item_id == item_id),
        marks=await count(Mark, Mark.item_id == item_id),
        versions=await count(ResultVersion, ResultVersion.item_id == item_id),
        judges=await count(JudgeAssignment, JudgeAssignment.item_id == item_id),
        criteria=await count(Criterion, Criterion.component_id.in_(select(Component.id).where(Component.item_id == item_id))),
    )


async def item_delete_refusal(db: AsyncSession, item: Item) -> str | None:
    found = await item_dependents(db, item.id)
    return allowed.delete_item(item.status, found.entries, found.marks, found.versions)


async def delete_item(db: AsyncSession, actor: Actor, item_id: int) -> Item:
    """Delete an item nothing depends on (setup, no entries, marks or results): its scheme and
    judge assignments go with it; audited. Returns the deleted item (for its competition)."""
    item = await get_item(db, item_id)
    found = await item_dependents(db, item_id)
    if problem := allowed.delete_item(item.status, found.entries, found.marks, found.versions):
        raise Conflict(problem, code="has_dependents")
    detail = {"name": item.name, "skill_code": item.skill_code, "competition_id": item.competition_id}
    await record(db, actor, "item.delete", "item", item.id, {**detail, "judges": found.judges, "criteria": found.criteria})
    await db.delete(item)
    await db.commit()
    return item


@dataclass
class ItemForm:
    name: str
    skill_code: str
    skill_name: str
    is_team: bool = False
    team_size: int | None = 1
    no_ties: bool = False
    excellence_fraction: Decimal = Decimal("0.5")
    group_name: str = ""  # 组别: policy tiers with groups match it

    def field_errors(self) -> dict[str, str]:
        """A message per form field that is wrong (named as the form names it)."""
        errors = item_problems(self.name, self.skill_code, self.skill_name, self.is_team, self.team_size)
        for key, field in (
            ("name", limits.ITEM_NAME),
            ("skill_code", limits.SKILL_CODE),
            ("skill_name", limits.SKILL_NAME),
            ("group_name", limits.ITEM_GROUP),
        ):
            if problem := field.problem(str(getattr(self, key)).strip()):
                errors.setdefault(key, problem)
        if problem := excellence_fraction_problem(self.excellence_fraction):
            errors["excellence_fraction"] = problem
        return errors

    def errors(self) -> list[str]:
        return list(self.field_errors().values())


async def get_item(db: AsyncSession, item_id: int) -> Item:
    item = (
        await db.execute(
            select(Item)
            .where(Item.id == item_id)
            .options(
                selectinload(Item.competition),
                selectinload(Item.components).selectinload(Component.criteria),
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if item is None:
        raise NotFound(Text("赛项 {item_id} 不存在", item_id=item_id))
    return item


async def save_item(db: AsyncSession, actor: Actor, competition_id: int, form: ItemForm, item_id: int | None = None) -> Item:
    if errors := form.field_errors():
        raise FormInvalid("赛项信息有误", errors)
    await get_competition(db, competition_id)
    clash = await db.execute(
        select(Item.id).where(Item.competition_id == competition_id, Item.skill_code == form.skill_code.strip(), Item.id != (item_id or 0))
    )
    if clash.first():
        raise Conflict(Text("本赛事已有职业(工种)代码为「{skill_code}」的赛项", skill_code=form.skill_code))
    if item_id is None:
        item = Item(competition_id=competition_id)
        db.add(item)
    else:
        item = await get_item(db, item_id)
        if item.competition_id != competition_id:
            raise NotFound(Text("赛项 {item_id} 不属于赛事 {competition_id}", item_id=item_id, competition_id=competition_id))
        if item.status != SETUP and item.is_team != form.is_team:
            raise Conflict("评分开始后不能修改个人/团队类型")
    item.name = form.name.strip()
    item.skill_code = form.skill_code.strip()
    item.skill_name = form.skill_name.strip()
    item.group_name = form.group_name.strip()
    item.is_team = form.is_team
    item.team_size = form.team_size if form.is_team and form.team_size else 1
    item.no_ties = form.no_ties
    item.excellence_fraction = form.excellence_fraction
    await db.flush()
    await record(db, actor, "item.save", "item", item.id, {**form.__dict__, "competition_id": competition_id})
    await db.commit()
    return item


def scheme_of(item: Item) -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=c.kind,
            weight=c.weight,
            name=c.name,
            criteria=[CriterionSpec(k.code, k.name, k.max_mark, k.step, k.kind, k.panel_size, k.aggregation) for k in c.criteria],
        )
        for c in item.components
    ]


def apply_scheme(item: Item, components: list[ComponentSpec]) -> None:
    """Make the item's scheme equal to ``components`` (validated by the caller), in memory.

    Rows are matched by component kind and criterion code and updated in place, so ids stay
    stable and no unique key is briefly held twice inside one flush.
    """
    existing = {c.kind: c for c in item.components}
    item.components[:] = [
        _merge_component(existing.get(spec.kind) or Component(kind=spec.kind), spec, position) for position, spec in enumerate(components)
    ]


def _merge_component(component: Component, spec: ComponentSpec, position: int) -> Component:
    component.name, component.weight, component.position = spec.label, spec.weight, position
    existing = {c.code: c for c in component.criteria}
    merged = []
    for i, c in enumerate(spec.criteria):
        criterion = existing.get(c.code) or Criterion(code=c.code)
        criterion.name, criterion.max_mark, criterion.step = c.name, c.max_mark, c.step
        criterion.kind, criterion.panel_size, criterion.aggregation, criterion.position = c.kind, c.panel_size, c.aggregation, i
        merged.append(criterion)
    component.criteria = merged
    return component


async def save_scheme(db: AsyncSession, actor: Actor, item_id: int, components: list[ComponentSpec]) -> Item:
    item = await get_item(db, item_id)
    if problem := allowed.scheme_edit(item.status):
        raise Conflict(problem)
    errors = validate_scheme(components)
    if errors:
        raise Invalid("评分方案无效", details=errors)
    apply_scheme(item, components)
    await db.flush()
    summary = [{"kind": c.kind, "weight": str(c.weight), "criteria": [k.code for k in c.criteria]} for c in components]
    await record(db, actor, "item.scheme", "item", item.id, {"components": summary})
    await db.commit()
    return await get_item(db, item_id)


# ---------------------------------------------------------------- units and people


async def list_units(db: AsyncSession) -> list[Unit]:
    return list((await db.execute(select(Unit).order_by(Unit.name))).scalars())


async def save_unit(
    db: AsyncSession, actor: Actor, name: str, code: str = "", region: str = "", contact: str = "", unit_id: int | None = None
) -> Unit:
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = N_("单位名称不能为空")
    for key, field, value in (
        ("name", limits.UNIT_NAME, name),
        ("code", limits.UNIT_CODE, code.strip()),
        ("region", limits.REGION, region.strip()),
        ("contact", limits.CONTACT, contact.strip()),
    ):
        if problem := field.problem(value):
            errors.setdefault(key, problem)
    if errors:
        raise FormInvalid("单位信息有误", errors)
    clash = await db.execute(select(Unit.id).where(Unit.name == name, Unit.id != (unit_id or 0)))
    if clash.first():
        raise FormConflict("单位信息有误", {"name": Text("单位「{name}」已存在", name=name)})
    unit = Unit() if unit_id is None else await db.get(Unit, unit_id)
    if unit is None:
        raise NotFound(Text("单位 {unit_id} 不存在", unit_id=unit_id))
    unit.name, unit.code, unit.region, unit.contact = name, code.strip(), region.strip(), contact.strip()
    db.add(unit)
    await db.flush()
    await record(db, actor, "unit.save", "unit", unit.id, {"name": name, "code": code, "region": region})
    await db.commit()
    return unit


async def search_people(db: AsyncSession, query: str = "", limit: int = 200) -> list[Person]:
    statement = select(Person).options(selectinload(Person.unit)).order_by(Person.name).limit(limit)
    if query.strip():
        like = f"%{query.strip()}%"
        statement = statement.where(or_(Person.name.like(like), Person.id_number.like(like)))
    return list((await db.execute(statement)).scalars())


@dataclass
class PersonForm:
    id_number: str
    name: str
    unit_id: int | None = None
    gender: str = ""
    phone: str = ""
    employment_region: str = ""
    is_employee: bool = False


async def save_person(db: AsyncSession, actor: Actor, form: PersonForm) -> Person:
    """Create or update the person with this 证件号码 (people are keyed by it)."""
    errors: dict[str, str] = {}
    try:
        number = idcard.validate(form.id_number)
    except idcard.IdNumberError as exc:
        errors["id_number"] = message_of(exc)
        number = ""
    if not form.name.strip():
        errors["name"] = N_("姓名不能为空")
    for key, field, value in (
        ("name", limits.PERSON_NAME, form.name.strip()),
        ("phone", limits.PHONE, form.phone.strip()),
        ("employment_region", limits.REGION, form.employment_region.strip()),
    ):
        if problem := field.problem(value):
            errors.setdefault(key, problem)
    if form.gender not in ("", "男", "女"):
        errors["gender"] = N_("性别应为 男 或 女")
    if form.unit_id is not None and await db.get(Unit, form.unit_id) is None:
        errors["unit_id"] = Text("单位 {unit_id} 不存在", unit_id=form.unit_id)
    if errors:
        raise FormInvalid("人员信息有误", errors)
    person = (await db.execute(select(Person).where(Person.id_number == number))).scalar_one_or_none()
    if person is None:
        person = Person(id_number=number)
        db.add(person)
    person.name = form.name.strip()
    person.unit_id = form.unit_id
    person.gender = form.gender
    person.phone = form.phone.strip()
    person.employment_region = form.employment_region.strip()
    person.is_employee = form.is_employee
    await db.flush()
    await record(db, actor, "person.save", "person", person.id, {"name": person.name, "unit_id": form.unit_id})
    await db.commit()
    return person


async def person_by_id_number(db: AsyncSession, raw: str) -> Person:
    try:
        number = idcard.validate(raw)
    except idcard.IdNumberError as exc:
        raise Invalid(message_of(exc)) from None
    person = (await db.execute(select(Person).where(Person.id_number == number))).scalar_one_or_none()
    if person is None:
        raise NotFound(Text("证件号码为 {number} 的人员不存在,请先在“人员”中添加或导入", number=idcard.mask(number)))
    return person


# ---------------------------------------------------------------- entries


async def item_entries(db: AsyncSession, item_id: int) -> list[Entry]:
    statement = (
        select(Entry)
        .where(Entry.item_id == item_id)
        .options(
            selectinload(Entry.unit),
            selectinload(Entry.members).selectinload(EntryMember.person),
            selectinload(Entry.coaches).selectinload(EntryCoach.person),
        )
        .order_by(Entry.station_no.is_(None), Entry.station_no, Entry.entry_no)
    )
    return list((await db.execute(statement)).scalars())


async def entry_counts(db: AsyncSession, competition_id: int) -> dict[int, int]:
    rows = await db.execute(
        select(Entry.item_id, func.count())
        .join(Item, Item.id == Entry.item_id)
        .where(Item.competition_id == competition_id)
        .group_by(Entry.item_id)
    )
    return {item_id: count for item_id, count in rows.all()}


# ---------------------------------------------------------------- judges and conflicts

JUDGE_ROLES = {JUDGE: "裁判", CHIEF_JUDGE: "裁判长"}


async def item_judges(db: AsyncSession, item_id: int) -> list[JudgeAssignment]:
    statement = (
        select(JudgeAssignment)
        .where(JudgeAssignment.item_id == item_id)
        .options(selectinload(JudgeAssignment.person).selectinload(Person.unit))
        .order_by(JudgeAssignment.role.desc(), JudgeAssignment.seat)
    )
    return list((await db.execute(statement)).scalars())


async def panel_refusals(db: AsyncSession, item_id: int) -> dict[int, Text]:
    """Person id -> why they may not sit on the item's panel (the one rule: contest.domain.conflicts)."""
    entries = await item_entries(db, item_id)
    return taking_part(
        [EntryPeople(e.entry_no, frozenset(m.person_id for m in e.members), frozenset(c.person_id for c in e.coaches)) for e in entries]
    )


async def person_by_id(db: AsyncSession, person_id: int) -> Person:
    person = await db.get(Person, person_id)
    if person is None:
        raise NotFound("该人员不存在,请重新搜索")
    return person


async def find_people_by_name(db: AsyncSession, query: str, limit: int = 10) -> list[Person]:
    """The judge picker's typeahead: people whose name contains ``query`` (names only, never ID numbers)."""
    query = query.strip()
    if not query:
        return []
    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    statement = (
        select(Person)
        .where(Person.name.like(like, escape="\\"))
        .options(selectinload(Person.unit))
        .order_by(func.length(Person.name), Person.name, Person.id)
        .limit(limit)
    )
    return list((await db.execute(statement)).scalars())


async def assign_judge(db: AsyncSession, actor: Actor, item_id: int, person: Person, role: str) -> JudgeAssignment:
    if role not in JUDGE_ROLES:
        raise Invalid(Text("裁判角色「{role}」无效,应为 裁判 或 裁判长", role=role))
    item = await get_item(db, item_id)
    role_there = (await panel_refusals(db, item.id)).get(person.id)
    if role_there:
        raise Conflict(panel_refusal(item.skill_code, role_there))
    existing = (
        await db.execute(select(JudgeAssignment).where(JudgeAssignment.item_id == item.id, JudgeAssignment.person_id == person.id))
    ).scalar_one_or_none()
    if existing is not None:
        if existing.role == role:
            return existing
        existing.role = role
        assignment = existing
    else:
        seat = (
            await db.execute(select(func.coalesce(func.max(JudgeAssignment.seat), 0)).where(JudgeAssignment.item_id == item.id))
        ).scalar_one()
        assignment = JudgeAssignment(item_id=item.id, person_id=person.id, role=role, seat=seat + 1)
        db.add(assignment)
    await db.flush()
    await record(db, actor, "judge.assign", "item", item.id, {"person_id": person.id, "role": role, "seat": assignment.seat})
    await db.commit()
    return assignment


async def is_chief_of(db: AsyncSession, item_id: int, person_id: int | None) -> bool:
    """Is this person the item's chief judge (裁判长)? The console, its socket and the papers ask."""
    if person_id is None:
        return False
    found = await db.execute(
        select(JudgeAssignment.id).where(
            JudgeAssignment.item_id == item_id, JudgeAssignment.person_id == person_id, JudgeAssignment.role == CHIEF_JUDGE
        )
    )
    return found.first() is not None


async def unassign_judge(db: AsyncSession, actor: Actor, item_id: int, assignment_id: int) -> None:
    assignment = await db.get(JudgeAssignment, assignment_id)
    if assignment is None or assignment.item_id != item_id:
        raise NotFound("该裁判分配不存在")
    item = await get_item(db, item_id)
    if problem := allowed.judge_removal(item.status):
        raise Conflict(problem)
    await db.delete(assignment)
    await record(db, actor, "judge.unassign", "item", item_id, {"person_id": assignment.person_id})
    await db.commit()


async def declare_conflict(db: AsyncSession, actor: Actor, judge: Person, other: Person, reason: str) -> DeclaredConflict:
    problems: dict[str, str] = {}
    if judge.id == other.id:
        problems["other_id_number"] = N_("不能申报与本人回避")
    if not reason.strip():
        problems["reason"] = N_("请填写回避原因(如:亲属关系、师徒关系)")
    elif problem := limits.CONFLICT_REASON.problem(reason.strip()):
        problems["reason"] = problem
    if problems:
        raise FormInvalid("回避信息有误", problems)
    existing = (
        await db.execute(
            select(DeclaredConflict).where(DeclaredConflict.judge_person_id == judge.id, DeclaredConflict.other_person_id == other.id)
        )
    ).scalar_one_or_none()
    conflict = existing or DeclaredConflict(judge_person_id=judge.id, other_person_id=other.id)
    conflict.reason = reason.strip()
    db.add(conflict)
    await db.flush()
    await record(db, actor, "conflict.declare", "person", judge.id, {"other_person_id": other.id, "reason": conflict.reason})
    await db.commit()
    return conflict


async def list_conflicts(db: AsyncSession) -> list[DeclaredConflict]:
    statement = (
        select(DeclaredConflict)
        .options(selectinload(DeclaredConflict.judge), selectinload(DeclaredConflict.other))
        .order_by(DeclaredConflict.id)
    )
    return list((await db.execute(statement)).scalars())


async def remove_conflict(db: AsyncSession, actor: Actor, conflict_id: int) -> None:
    conflict = await db.get(DeclaredConflict, conflict_id)
    if conflict is None:
        raise NotFound("该回避申报不存在")
    await db.delete(conflict)
    await record(db, actor, "conflict.remove", "person", conflict.judge_person_id, {"other_person_id": conflict.other_person_id})
    await db.commit()


async def conflict_matrix(db: AsyncSession, item_id: int) -> dict[int, dict[int, list[str]]]:
    """judge assignment id -> entry id -> reasons, only where there is a conflict."""
    judges = await item_judges(db, item_id)
    entries = await item_entries(db, item_id)
    declared = await db.execute(
        select(DeclaredConflict.judge_person_id, DeclaredConflict.other_person_id).where(
            DeclaredConflict.judge_person_id.in_([j.person_id for j in judges])
        )
    )
    by_judge: dict[int, set[int]] = {}
    for judge_person_id, other_id in declared.all():
        by_judge.setdefault(judge_person_id, set()).add(other_id)
    facts = {
        e.id: EntryFacts(
            unit_id=e.unit_id,
            member_person_ids=frozenset(m.person_id for m in e.members),
            member_unit_ids=frozenset(m.person.unit_id for m in e.members if m.person.unit_id),
            coach_person_ids=frozenset(c.person_id for c in e.coaches),
        )
        for e in entries
    }
    matrix: dict[int, dict[int, list[str]]] = {}
    for judge in judges:
        judge_facts = JudgeFacts(judge.person_id, judge.person.unit_id, frozenset(by_judge.get(judge.person_id, set())))
        for entry_id, entry_facts in facts.items():
            reasons = conflict_reasons(judge_facts, entry_facts)
            if reasons:
                matrix.setdefault(judge.id, {})[entry_id] = reasons
    return matrix


# ---------------------------------------------------------------- the draw


async def run_draw(db: AsyncSession, actor: Actor, item_id: int, seed: str | None = None) -> Draw:
    item = await get_item(db, item_id)
    entries = await item_entries(db, item_id)
    if problem := allowed.draw(item.status, len(entries)):
        raise Conflict(problem) if item.status != SETUP else Invalid(problem)
    seed = (seed or "").strip() or new_seed()
    if problem := limits.DRAW_SEED.problem(seed):
        raise FormInvalid("抽签种子有误", {"seed": problem})
    mapping = draw_stations([e.entry_no for e in entries], seed)
    # Clear first: the unique (item, station) constraint would trip over a half-applied swap.
    for entry in entries:
        entry.station_no = None
    await db.flush()
    for entry in entries:
        entry.station_no = mapping[entry.entry_no]
    draw = Draw(item_id=item.id, seed=seed, mapping=mapping, created_by=actor.username)
    db.add(draw)
    item.draw_seed = seed
    item.drawn_at = utcnow()
    await db.flush()
    await record(db, actor, "item.draw", "item", item.id, {"seed": seed, "entries": len(entries)})
    await db.commit()
    return draw


# ---------------------------------------------------------------- judges' sign-in codes


def judge_accounts(competition_id: int) -> Select[Person, User]:
    return (
        select(Person, User)
        .join(JudgeAssignment, JudgeAssignment.person_id == Person.id)
        .join(Item, Item.id == JudgeAssignment.item_id)
        .join(User, User.person_id == Person.id)
        .where(Item.competition_id == competition_id, User.is_active.is_(True))
        .order_by(User.username)
        .distinct()
    )


@dataclass(frozen=True)
class LinkCounts:
    accounts: int  # judge accounts that get a new code
    live: int  # codes issued earlier and still valid: they stop working


async def link_counts(db: AsyncSession, competition_id: int) -> LinkCounts:
    """What regenerating the judges' sign-in codes (live/links.py) does, for the confirmation that names it."""
    users = [user.id for _, user in (await db.execute(judge_accounts(competition_id))).all()]
    live = 0
    if users:
        query = select(func.count()).select_from(LoginLink).where(LoginLink.user_id.in_(users), LoginLink.expires_at > utcnow())
        live = int((await db.execute(query)).scalar_one())
    return LinkCounts(len(users), live)


async def latest_draw(db: AsyncSession, item_id: int) -> Draw | None:
    return (await db.execute(select(Draw).where(Draw.item_id == item_id).order_by(Draw.id.desc()).limit(1))).scalar_one_or_none()


async def judge_items(db: AsyncSession, person_id: int | None, roles: tuple[str, ...] = PANEL_ROLES) -> list[JudgeAssignment]:
    if person_id is None:
        return []
    statement = (
        select(JudgeAssignment)
        .where(JudgeAssignment.person_id == person_id, JudgeAssignment.role.in_(roles))
        .options(selectinload(JudgeAssignment.item).selectinload(Item.competition))
        .order_by(JudgeAssignment.item_id)
    )
    return list((await db.execute(statement)).scalars())
