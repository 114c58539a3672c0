"""Judges import (裁判): people, their accounts and their places on the items' panels, from one
workbook; checked whole, then written in one transaction, or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.service import AccountError, create_user, lookalikes
from contest.audit.service import Actor, record
from contest.db.models import (
    JudgeAssignment,
    User,
)
from contest.domain import conflicts
from contest.domain import usernames as username_rules
from contest.domain.roles import CHIEF_JUDGE, JUDGE, ROLES
from contest.domain.text import N_
from contest.errors import Conflict
from contest.events.service import get_competition
from contest.rosters.drafts import (
    CONCURRENT,
    GENDERS,
    ITEM_LIST_SPLIT,
    JUDGE_ROLE_BY_LABEL,
    Context,
    Count,
    ImportResult,
    chunks,
    digest,
    load_entries,
    planned_person_changes,
    planned_unit_changes,
    read_units,
    safe_filename,
    sheet_order,
    write_people,
    write_units,
)
from contest.rosters.parse import Problems, Row, read_sheets
from contest.rosters.sheets import (
    GENDER,
    ID_NUMBER,
    JUDGE_SHEETS,
    JUDGES,
    NAME,
    PHONE,
    UNITS,
)
from contest.xlsx.upload import parse_off_loop

# ---------------------------------------------------------------- judges import


@dataclass
class JudgeDraft:
    id_number: str
    role: str
    codes: list[str]
    username: str
    row: Row


def _account_role(user: User, judge: JudgeDraft) -> str:
    """Accounts are global: a chief judge elsewhere stays chief judge; a judge is promoted, never demoted."""
    return CHIEF_JUDGE if CHIEF_JUDGE in (user.role, judge.role) else JUDGE


async def import_judges(db: AsyncSession, actor: Actor, competition_id: int, filename: str, content: bytes) -> ImportResult:
    """Judges: people by 证件号码, an assignment per listed item, and optional login accounts."""
    await get_competition(db, competition_id)
    problems = Problems(sheet_order(JUDGE_SHEETS))
    sheets = await parse_off_loop(read_sheets, content, JUDGE_SHEETS, problems)
    result = ImportResult("judges", filename)
    ctx = Context(db, competition_id, problems)
    await ctx.load_items()
    await ctx.load_units([r.text("单位名称") for r in sheets[UNITS.name]] + [r.text("所在单位") for r in sheets[JUDGES.name]])
    read_units(sheets[UNITS.name], ctx)

    judges: list[JudgeDraft] = []
    seen: dict[str, Row] = {}
    usernames: dict[str, Row] = {}
    username_skeletons: dict[str, str] = {}  # look-alikes within the file
    for row in sheets[JUDGES.name]:
        name = row.required(NAME)
        number = row.id_number()
        gender = row.choice(GENDER, GENDERS)
        unit_name = row.text("所在单位")
        role = row.choice("角色", JUDGE_ROLE_BY_LABEL, required=True)
        username = row.text(N_("登录账号"))
        ctx.check_unit(row, "所在单位", unit_name)
        codes: list[str] = []
        for code in ITEM_LIST_SPLIT.split(row.text("执裁赛项")):
            if not code or code in codes:
                continue
            if code not in ctx.items:
                row.error("执裁赛项", f"未知的职业(工种)代码「{code}」:本赛事没有该赛项")
            codes.append(code)
        if username:
            try:
                username = username_rules.validate(username)  # normalised: `ORG` is `org`
            except username_rules.UsernameError as exc:
                row.error(N_("登录账号"), str(exc))
            else:
                twin = username_skeletons.setdefault(username_rules.skeleton(username), username)
                if twin in usernames:
                    where = f"第 {usernames[twin].number} 行"
                    row.error(
                        N_("登录账号"),
                        f"登录账号「{username}」在{where}已使用"
                        if twin == username
                        else f"登录账号「{username}」与{where}的「{twin}」形似",
                    )
                else:
                    usernames[username] = row
        if number is None:
            continue
        if number in seen:
            row.error(ID_NUMBER, f"该裁判在第 {seen[number].number} 行已列出")
            continue
        seen[number] = row
        ctx.person(row, name, number, gender, phone=row.text(PHONE), unit_name=unit_name or None)
        if role is not None:
            judges.append(JudgeDraft(number, role, codes, username, row))

    await ctx.load_people()
    ctx.check_people_against_db()
    person_ids = [p.id for p in ctx.people.values()]
    users_by_name: dict[str, User] = {}
    user: User | None
    lookalike_of = await lookalikes(db, usernames)  # an existing account another name reads like
    for names in chunks(sorted(usernames)):
        for found in (await db.execute(select(User).where(User.username.in_(names)))).scalars():
            users_by_name[found.username] = found
    users_by_person: dict[int, list[User]] = {}
    for ids in chunks(person_ids):
        for found in (await db.execute(select(User).where(User.person_id.in_(ids)))).scalars():
            if found.person_id is not None:  # selected by person_id: always
                users_by_person.setdefault(found.person_id, []).append(found)
    item_ids = [item.id for item in ctx.items.values()]
    assignments: dict[tuple[int, int], JudgeAssignment] = {}
    seats: dict[int, int] = {}
    if item_ids:
        for assignment in (await db.execute(select(JudgeAssignment).where(JudgeAssignment.item_id.in_(item_ids)))).scalars():
            assignments[(assignment.item_id, assignment.person_id)] = assignment
            seats[assignment.item_id] = max(seats.get(assignment.item_id, 0), assignment.seat)
    stored_entries = await load_entries(ctx)
    by_code: dict[str, list[conflicts.EntryPeople[str]]] = {}
    for (code, entry_no), entry in stored_entries.items():
        people = conflicts.EntryPeople(
            entry_no, frozenset(m.person.id_number for m in entry.members), frozenset(c.person.id_number for c in entry.coaches)
        )
        by_code.setdefault(code, []).append(people)
    taking_part = {code: conflicts.taking_part(entries) for code, entries in by_code.items()}

    account_plan: list[tuple[JudgeDraft, User | None]] = []
    for judge in judges:
        person = ctx.people.get(judge.id_number)
        for code in judge.codes:
            role_there = taking_part.get(code, {}).get(judge.id_number)
            if role_there:
                judge.row.error("执裁赛项", conflicts.panel_refusal(code, role_there))
        if not judge.username:
            continue
        user = users_by_name.get(judge.username)
        own = users_by_person.get(person.id, []) if person else []
        if user is None and judge.username in lookalike_of:
            judge.row.error(
                N_("登录账号"), f"登录账号「{judge.username}」与已有账号「{lookalike_of[judge.username]}」形似,容易认错,请换一个"
            )
        elif user is not None and (person is None or user.person_id != person.id):
            judge.row.error(N_("登录账号"), f"登录账号「{judge.username}」已被其他人员使用")
        elif user is not None and user.role not in (JUDGE, CHIEF_JUDGE):
            judge.row.error(N_("登录账号"), f"登录账号「{judge.username}」是{ROLES.get(user.role, user.role)}账号,不能用作裁判账号")
        elif user is None and own:
            judge.row.error(N_("登录账号"), f"该裁判已有登录账号「{own[0].username}」")
        else:
            account_plan.append((judge, user))

    if not sheets[JUDGES.name].rows and not problems:
        problems.add(JUDGES.name, 0, "", "文件中没有可导入的裁判(以“示例”开头的行不会导入)")
    if problems:
        result.problems = problems.sorted()
        return result

    counts = result.counts
    for label in ("单位", "人员", "裁判分配", N_("登录账号")):
        counts[label] = Count()

    def assignment_plan() -> list[tuple[JudgeDraft, str, JudgeAssignment | None]]:
        plan = []
        for judge in judges:
            person = ctx.people.get(judge.id_number)
            for code in judge.codes:
                existing = assignments.get((ctx.items[code].id, person.id)) if person else None
                plan.append((judge, code, existing))
        return plan

    nothing_to_do = (
        not planned_unit_changes(ctx)
        and not planned_person_changes(ctx)
        and all(existing is not None and existing.role == judge.role for judge, _, existing in assignment_plan())
        and all(user is not None and _account_role(user, judge) == user.role for judge, user in account_plan)
    )
    if nothing_to_do:
        counts["单位"].unchanged = len(ctx.unit_drafts)
        counts["人员"].unchanged = len(ctx.person_drafts)
        counts["裁判分配"].unchanged = len(assignment_plan())
        counts[N_("登录账号")].unchanged = len(account_plan)
        return result

    try:
        await write_units(ctx, counts["单位"])
        await write_people(ctx, counts["人员"])
    except IntegrityError:
        await db.rollback()
        raise Conflict(CONCURRENT) from None
    for judge, code, existing in assignment_plan():
        item = ctx.items[code]
        if existing is None:
            seats[item.id] = seats.get(item.id, 0) + 1
            assignment = JudgeAssignment(item_id=item.id, person_id=ctx.people[judge.id_number].id, role=judge.role, seat=seats[item.id])
            db.add(assignment)
            assignments[(item.id, assignment.person_id)] = assignment
            counts["裁判分配"].added += 1
        elif existing.role != judge.role:
            existing.role = judge.role
            counts["裁判分配"].updated += 1
        else:
            counts["裁判分配"].unchanged += 1
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise Conflict(CONCURRENT) from None
    for judge, user in account_plan:
        person = ctx.people[judge.id_number]
        if user is None:
            try:
                await create_user(db, actor, judge.username, None, judge.role, display_name=person.name, person_id=person.id)
            except AccountError as exc:  # checked above; a race with another import lands here
                await db.rollback()
                problems.add(JUDGES.name, judge.row.number, N_("登录账号"), exc.message)
                result.problems, result.counts = problems.sorted(), {}
                return result
            counts[N_("登录账号")].added += 1
        elif _account_role(user, judge) != user.role:
            user.role = _account_role(user, judge)
            counts[N_("登录账号")].updated += 1
        else:
            counts[N_("登录账号")].unchanged += 1
    detail = {"file": safe_filename(filename), "sha256": digest(content), "counts": result.summary()}
    await record(db, actor, "judges.import", "competition", competition_id, detail)
    await db.commit()
    return result
