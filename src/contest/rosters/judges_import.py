"""Judges import (裁判): people, their accounts and their places on the items' panels, from one
workbook; checked whole, then written in one transaction, or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from contest.domain.text import N_, Text, message_of
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
from contest.rosters.parse import Problems, Row, label_of, read_sheets
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


@dataclass
class _Stored:
    """What the database already holds that the judges in the file meet: accounts by name and by
    person, names that read like an existing account's, the items' panels and who takes part."""

    users_by_name: dict[str, User]
    users_by_person: dict[int, list[User]]
    lookalike_of: dict[str, str]
    assignments: dict[tuple[int, int], JudgeAssignment]  # (item id, person id) ->
    seats: dict[int, int]  # item id -> the highest seat taken
    taking_part: Mapping[str, Mapping[str, str]]  # skill code -> 证件号码 -> their role among the entries


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
    judges, usernames = _read_judges(sheets[JUDGES.name], ctx)

    await ctx.load_people()
    ctx.check_people_against_db()
    stored = await _load_stored(db, ctx, usernames)
    account_plan = _plan_accounts(judges, ctx, stored)

    if not sheets[JUDGES.name].rows and not problems:
        problems.add(JUDGES.name, 0, "", N_("文件中没有可导入的裁判(以“示例”开头的行不会导入)"))
    if problems:
        result.problems = problems.sorted()
        return result

    counts = result.counts
    for label in ("单位", "人员", "裁判分配", N_("登录账号")):
        counts[label] = Count()
    if _nothing_to_do(ctx, _assignment_plan(judges, ctx, stored), account_plan):
        counts["单位"].unchanged = len(ctx.unit_drafts)
        counts["人员"].unchanged = len(ctx.person_drafts)
        counts["裁判分配"].unchanged = len(_assignment_plan(judges, ctx, stored))
        counts[N_("登录账号")].unchanged = len(account_plan)
        return result

    try:
        await write_units(ctx, counts["单位"])
        await write_people(ctx, counts["人员"])
    except IntegrityError:
        await db.rollback()
        raise Conflict(CONCURRENT) from None
    # Planned again: the people just written have their ids now.
    _write_assignments(db, ctx, _assignment_plan(judges, ctx, stored), stored, counts["裁判分配"])
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise Conflict(CONCURRENT) from None
    if not await _write_accounts(db, actor, ctx, account_plan, counts[N_("登录账号")], problems):
        result.problems, result.counts = problems.sorted(), {}
        return result
    detail = {"file": safe_filename(filename), "sha256": digest(content), "counts": result.summary()}
    await record(db, actor, "judges.import", "competition", competition_id, detail)
    await db.commit()
    return result


def _read_judges(rows: Iterable[Row], ctx: Context) -> tuple[list[JudgeDraft], dict[str, Row]]:
    """The judges sheet, row by row: each person (into ``ctx``), the judges with a role, and the
    login accounts asked for (normalised name -> its row). Problems are recorded on the rows."""
    judges: list[JudgeDraft] = []
    seen: dict[str, Row] = {}
    usernames: dict[str, Row] = {}
    username_skeletons: dict[str, str] = {}  # look-alikes within the file
    for row in rows:
        name = row.required(NAME)
        number = row.id_number()
        gender = row.choice(GENDER, GENDERS)
        unit_name = row.text("所在单位")
        role = row.choice("角色", JUDGE_ROLE_BY_LABEL, required=True)
        username = row.text(N_("登录账号"))
        ctx.check_unit(row, "所在单位", unit_name)
        codes = _item_codes(row, ctx)
        if username:
            username = _check_username(row, username, usernames, username_skeletons)
        if number is None:
            continue
        if number in seen:
            row.error(ID_NUMBER, Text("该裁判在第 {row} 行已列出", row=seen[number].number))
            continue
        seen[number] = row
        ctx.person(row, name, number, gender, phone=row.text(PHONE), unit_name=unit_name or None)
        if role is not None:
            judges.append(JudgeDraft(number, role, codes, username, row))
    return judges, usernames


def _item_codes(row: Row, ctx: Context) -> list[str]:
    """The 执裁赛项 of a row: skill codes of this competition's items, each once."""
    codes: list[str] = []
    for code in ITEM_LIST_SPLIT.split(row.text("执裁赛项")):
        if not code or code in codes:
            continue
        if code not in ctx.items:
            row.error("执裁赛项", Text("未知的职业(工种)代码「{code}」:本赛事没有该赛项", code=code))
        codes.append(code)
    return codes


def _check_username(row: Row, username: str, usernames: dict[str, Row], skeletons: dict[str, str]) -> str:
    """The normalised login account (`ORG` is `org`); refused on the row if it is not a valid name,
    or is used (or read alike) by an earlier row. Recorded in ``usernames`` when it is free."""
    try:
        username = username_rules.validate(username)
    except username_rules.UsernameError as exc:
        row.error(N_("登录账号"), message_of(exc))
        return username
    twin = skeletons.setdefault(username_rules.skeleton(username), username)
    if twin in usernames:
        where = usernames[twin].number
        if twin == username:
            row.error(N_("登录账号"), Text("登录账号「{username}」在第 {row} 行已使用", username=username, row=where))
        else:
            row.error(N_("登录账号"), Text("登录账号「{username}」与第 {row} 行的「{twin}」形似", username=username, row=where, twin=twin))
    else:
        usernames[username] = row
    return username


async def _load_stored(db: AsyncSession, ctx: Context, usernames: dict[str, Row]) -> _Stored:
    """The accounts, panels and entries the file's judges meet (after ``ctx.load_people``)."""
    person_ids = [p.id for p in ctx.people.values()]
    users_by_name: dict[str, User] = {}
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
    return _Stored(users_by_name, users_by_person, lookalike_of, assignments, seats, taking_part)


def _plan_accounts(judges: list[JudgeDraft], ctx: Context, stored: _Stored) -> list[tuple[JudgeDraft, User | None]]:
    """Refuses a judge on a panel where they take part (an entry's member or coach), and plans each
    login account asked for: (judge, None) to create, (judge, the account) to keep or promote."""
    account_plan: list[tuple[JudgeDraft, User | None]] = []
    for judge in judges:
        person = ctx.people.get(judge.id_number)
        for code in judge.codes:
            role_there = stored.taking_part.get(code, {}).get(judge.id_number)
            if role_there:
                judge.row.error("执裁赛项", conflicts.panel_refusal(code, role_there))
        if not judge.username:
            continue
        user = stored.users_by_name.get(judge.username)
        own = stored.users_by_person.get(person.id, []) if person else []
        if user is None and judge.username in stored.lookalike_of:
            judge.row.error(
                N_("登录账号"),
                Text(
                    "登录账号「{username}」与已有账号「{existing}」形似,容易认错,请换一个",
                    username=judge.username,
                    existing=stored.lookalike_of[judge.username],
                ),
            )
        elif user is not None and (person is None or user.person_id != person.id):
            judge.row.error(N_("登录账号"), Text("登录账号「{username}」已被其他人员使用", username=judge.username))
        elif user is not None and user.role not in (JUDGE, CHIEF_JUDGE):
            role = label_of(ROLES.get(user.role, user.role))
            judge.row.error(N_("登录账号"), Text("登录账号「{username}」是{role}账号,不能用作裁判账号", username=judge.username, role=role))
        elif user is None and own:
            judge.row.error(N_("登录账号"), Text("该裁判已有登录账号「{username}」", username=own[0].username))
        else:
            account_plan.append((judge, user))
    return account_plan


def _assignment_plan(judges: list[JudgeDraft], ctx: Context, stored: _Stored) -> list[tuple[JudgeDraft, str, JudgeAssignment | None]]:
    """(judge, skill code, the stored assignment or None) for each item a judge is listed on."""
    plan = []
    for judge in judges:
        person = ctx.people.get(judge.id_number)
        for code in judge.codes:
            existing = stored.assignments.get((ctx.items[code].id, person.id)) if person else None
            plan.append((judge, code, existing))
    return plan


def _nothing_to_do(
    ctx: Context, assignment_plan: list[tuple[JudgeDraft, str, JudgeAssignment | None]], account_plan: list[tuple[JudgeDraft, User | None]]
) -> bool:
    """The file says what is stored already: no unit, person, assignment or account would change."""
    return (
        not planned_unit_changes(ctx)
        and not planned_person_changes(ctx)
        and all(existing is not None and existing.role == judge.role for judge, _, existing in assignment_plan)
        and all(user is not None and _account_role(user, judge) == user.role for judge, user in account_plan)
    )


def _write_assignments(
    db: AsyncSession, ctx: Context, plan: list[tuple[JudgeDraft, str, JudgeAssignment | None]], stored: _Stored, count: Count
) -> None:
    """Adds each new assignment on the next free seat, updates a changed role (flushed by the caller)."""
    for judge, code, existing in plan:
        item = ctx.items[code]
        if existing is None:
            stored.seats[item.id] = stored.seats.get(item.id, 0) + 1
            person_id = ctx.people[judge.id_number].id
            assignment = JudgeAssignment(item_id=item.id, person_id=person_id, role=judge.role, seat=stored.seats[item.id])
            db.add(assignment)
            stored.assignments[(item.id, assignment.person_id)] = assignment
            count.added += 1
        elif existing.role != judge.role:
            existing.role = judge.role
            count.updated += 1
        else:
            count.unchanged += 1


async def _write_accounts(
    db: AsyncSession, actor: Actor, ctx: Context, account_plan: list[tuple[JudgeDraft, User | None]], count: Count, problems: Problems
) -> bool:
    """Creates the planned accounts, promotes a judge's account to chief judge where the file says
    so. False (rolled back, the problem recorded) if another import took a name meanwhile."""
    for judge, user in account_plan:
        person = ctx.people[judge.id_number]
        if user is None:
            try:
                await create_user(db, actor, judge.username, None, judge.role, display_name=person.name, person_id=person.id)
            except AccountError as exc:  # checked above; a race with another import lands here
                await db.rollback()
                problems.add(JUDGES.name, judge.row.number, N_("登录账号"), exc.message)
                return False
            count.added += 1
        elif _account_role(user, judge) != user.role:
            user.role = _account_role(user, judge)
            count.updated += 1
        else:
            count.unchanged += 1
    return True
