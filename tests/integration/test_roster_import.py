"""Roster and judge import from .xlsx: whole-file validation, nothing half-written, idempotent.

Every workbook is built here with openpyxl, so each test shows exactly what the file says.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contest.audit.service import Actor
from contest.db.models import (
    AuditRecord,
    Base,
    Competition,
    Component,
    Entry,
    EntryCoach,
    EntryMember,
    Item,
    JudgeAssignment,
    Person,
    Unit,
    User,
)
from contest.domain.idcard import check_digit
from contest.errors import ContestError
from contest.rosters import service
from contest.rosters.sheets import COACHES, COMPETITORS, CRITERIA, ITEMS, JUDGES, UNITS
from tests.conftest import login, post_form

ACTOR = Actor(user_id=None, username="tester", device="pytest")
WELD = "6-18-02-04"
CNC = "6-18-01-01"


def pid(seq: int, birth: str = "19900101") -> str:
    """A valid 18-digit 居民身份证 number (test data)."""
    first17 = f"371002{birth}{seq:03d}"
    return first17 + check_digit(first17)


def bad_check(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def good_sheets() -> dict[str, list[list[Any]]]:
    return {
        UNITS.name: [
            list(UNITS.headers),
            ["威海市第一技师学院", "WH01", "威海市环翠区", "王老师"],
            ["威海某某重工有限公司", "", "威海市文登区", ""],
        ],
        ITEMS.name: [
            list(ITEMS.headers),
            [WELD, "焊工", "焊工(个人)", "个人", None, 30, 70, None, "否", 0.5],
            [CNC, "数控车工", "数控车(团队)", "团队", 2, None, 100, None, "是", "50%"],
        ],
        CRITERIA.name: [
            list(CRITERIA.headers),
            [WELD, "理论", "T1", "理论知识", 100, 0.5, "测量分", 1, "单人评分"],
            [WELD, "实操", "A1", "焊缝外观", 60, 0.5, "测量分", None, None],
            [WELD, "实操", "B1", "安全文明生产", 40, 0.5, "评价分", 5, "去掉最高最低分后平均"],
            [CNC, "实操", "P1", "零件加工", 100, 1, "评价分", 3, "世赛评价分"],
        ],
        COMPETITORS.name: [
            list(COMPETITORS.headers),
            [WELD, "001", None, "张三", pid(1), "男", "威海市第一技师学院", "山东省威海市", "是", "13800000001"],
            [WELD, "002", None, "李四", pid(2), "女", "威海某某重工有限公司", "山东省威海市", "否", None],
            [CNC, "T01", "蓝队", "王五", pid(3), "男", "威海市第一技师学院", None, None, None],
            [CNC, "T01", "蓝队", "赵六", pid(4), "男", "威海市第一技师学院", None, None, None],
        ],
        COACHES.name: [
            list(COACHES.headers),
            [WELD, "001", "孙七", pid(5), "威海市第一技师学院", 6, "是"],
            [WELD, "001", "周八", pid(6), "威海某某重工有限公司", 4, "否"],
            [CNC, "T01", "孙七", pid(5), "威海市第一技师学院", None, None],
        ],
    }


async def make_competition(db: AsyncSession) -> int:
    competition = Competition(name="2026年技能兴威职业技能大赛", year=2026, level="municipal", category=1)
    db.add(competition)
    await db.commit()
    return competition.id


async def snapshot(db: AsyncSession) -> dict[str, list[tuple]]:
    """Every row of every table: the whole database, to compare before and after."""
    db.expire_all()
    tables: dict[str, list[tuple]] = {}
    for table in Base.metadata.sorted_tables:
        rows = (await db.execute(select(table).order_by(*table.primary_key.columns))).all()
        tables[table.name] = [tuple(r) for r in rows]
    return tables


def cells(result: service.ImportResult) -> set[tuple[str, int, str]]:
    return {(p.sheet, p.row, p.column) for p in result.problems}


def messages(result: service.ImportResult) -> str:
    return "\n".join(f"{p.sheet}!{p.row} [{p.column}] {p.message}" for p in result.problems)


async def run_roster(db: AsyncSession, competition_id: int, sheets: dict[str, list[list[Any]]]) -> service.ImportResult:
    return await service.import_roster(db, ACTOR, competition_id, "名单.xlsx", workbook(sheets))


# ---------------------------------------------------------------- a good file


async def test_good_file_imports_every_row(db: AsyncSession) -> None:
    cid = await make_competition(db)
    # A file name may carry a 证件号码 too: it must not reach the audit log either.
    result = await service.import_roster(db, ACTOR, cid, f"张三{pid(1)}.xlsx", workbook(good_sheets()))
    assert result.ok, messages(result)
    assert {k: (c.added, c.updated, c.unchanged) for k, c in result.counts.items()} == {
        "单位": (2, 0, 0),
        "赛项": (2, 0, 0),
        "评分方案": (2, 0, 0),
        "人员": (6, 0, 0),
        "参赛单元": (3, 0, 0),
    }

    units = {u.name: u for u in (await db.execute(select(Unit))).scalars()}
    assert set(units) == {"威海市第一技师学院", "威海某某重工有限公司"}
    assert (units["威海市第一技师学院"].code, units["威海市第一技师学院"].region) == ("WH01", "威海市环翠区")

    people = {p.id_number: p for p in (await db.execute(select(Person))).scalars()}
    assert len(people) == 6
    zhang = people[pid(1)]
    assert (zhang.name, zhang.gender, zhang.phone, zhang.employment_region, zhang.is_employee) == (
        "张三",
        "男",
        "13800000001",
        "山东省威海市",
        True,
    )
    assert zhang.unit_id == units["威海市第一技师学院"].id
    assert people[pid(2)].is_employee is False
    assert people[pid(6)].unit_id == units["威海某某重工有限公司"].id

    items = {
        i.skill_code: i
        for i in (await db.execute(select(Item).options(selectinload(Item.components).selectinload(Component.criteria)))).scalars()
    }
    weld, cnc = items[WELD], items[CNC]
    assert (weld.name, weld.skill_name, weld.is_team, weld.team_size, weld.no_ties) == ("焊工(个人)", "焊工", False, 1, False)
    assert (cnc.is_team, cnc.team_size, cnc.no_ties, cnc.excellence_fraction) == (True, 2, True, Decimal("0.5"))
    assert [(c.kind, c.weight) for c in weld.components] == [("theory", Decimal(30)), ("practical", Decimal(70))]
    practical = weld.components[1]
    assert [(k.code, k.max_mark, k.kind, k.panel_size, k.aggregation) for k in practical.criteria] == [
        ("A1", Decimal(60), "measurement", 1, "single"),
        ("B1", Decimal(40), "judgement", 5, "trimmed_mean"),
    ]
    assert [(k.code, k.step, k.aggregation, k.panel_size) for k in cnc.components[0].criteria] == [("P1", Decimal(1), "worldskills", 3)]

    entries = {
        (e.item_id, e.entry_no): e
        for e in (
            await db.execute(
                select(Entry).options(
                    selectinload(Entry.members).selectinload(EntryMember.person),
                    selectinload(Entry.coaches).selectinload(EntryCoach.person),
                )
            )
        ).scalars()
    }
    assert set(entries) == {(weld.id, "001"), (weld.id, "002"), (cnc.id, "T01")}
    team = entries[(cnc.id, "T01")]
    assert team.team_name == "蓝队" and team.unit_id == units["威海市第一技师学院"].id
    assert [m.person.name for m in team.members] == ["王五", "赵六"]
    assert [c.person.name for c in team.coaches] == ["孙七"]
    solo = entries[(weld.id, "001")]
    assert [m.person.name for m in solo.members] == ["张三"]
    assert [(c.person.name, c.share, c.is_lead) for c in solo.coaches] == [("孙七", 6, True), ("周八", 4, False)]
    assert entries[(weld.id, "002")].coaches == []

    audit = (await db.execute(select(AuditRecord).where(AuditRecord.action == "roster.import"))).scalars().all()
    assert len(audit) == 1 and audit[0].entity_id == str(cid)
    every_detail = " ".join(str(r.detail) for r in (await db.execute(select(AuditRecord))).scalars())
    assert not any(pid(n) in every_detail for n in range(1, 7)), "证件号码 must never reach the audit log"


async def test_same_file_twice_changes_nothing(db: AsyncSession) -> None:
    cid = await make_competition(db)
    content = workbook(good_sheets())
    first = await service.import_roster(db, ACTOR, cid, "a.xlsx", content)
    assert first.ok and first.changed > 0, messages(first)
    before = await snapshot(db)
    second = await service.import_roster(db, ACTOR, cid, "a.xlsx", content)
    assert second.ok, messages(second)
    assert second.changed == 0
    assert all(c.added == 0 and c.updated == 0 for c in second.counts.values())
    assert second.counts["参赛单元"].unchanged == 3 and second.counts["人员"].unchanged == 6
    assert await snapshot(db) == before  # includes the audit log: no record when nothing changed


async def test_changes_update_in_place_and_entries_not_in_file_are_kept(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    sheets = good_sheets()
    sheets[ITEMS.name][1][5:7] = [40, 60]  # weights change: the scheme is replaced
    sheets[COMPETITORS.name][1][9] = "13900000009"  # a new phone for 张三
    del sheets[COMPETITORS.name][2]  # 002 is not in this file: kept as it is
    sheets[COMPETITORS.name][3][4] = pid(7)  # T01: 赵六 replaced by 钱九
    sheets[COMPETITORS.name][3][3] = "钱九"
    sheets[COACHES.name][3:] = []  # T01 now has no coach (the 教练 sheet lists the coaches)
    result = await run_roster(db, cid, sheets)
    assert result.ok, messages(result)
    assert (result.counts["评分方案"].updated, result.counts["评分方案"].unchanged) == (1, 1)
    assert (result.counts["人员"].added, result.counts["人员"].updated) == (1, 1)
    assert (result.counts["参赛单元"].updated, result.counts["参赛单元"].unchanged) == (1, 1)
    assert result.kept_entries == 1

    weld = (await db.execute(select(Item).where(Item.skill_code == WELD).options(selectinload(Item.components)))).scalar_one()
    assert [c.weight for c in weld.components] == [Decimal(40), Decimal(60)]
    kept = (await db.execute(select(Entry).where(Entry.entry_no == "002"))).scalar_one_or_none()
    assert kept is not None
    team = (
        await db.execute(
            select(Entry)
            .where(Entry.entry_no == "T01")
            .options(selectinload(Entry.members).selectinload(EntryMember.person), selectinload(Entry.coaches))
        )
    ).scalar_one()
    assert [m.person.name for m in team.members] == ["王五", "钱九"]
    assert team.coaches == []
    assert (await db.execute(select(Person.phone).where(Person.id_number == pid(1)))).scalar_one() == "13900000009"
    # Re-importing the changed file is again a no-op.
    again = await run_roster(db, cid, sheets)
    assert again.ok and again.changed == 0, messages(again)


async def test_file_without_optional_sheets_uses_database_items_and_units(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    sheets: dict[str, list[list[Any]]] = {
        COMPETITORS.name: [list(COMPETITORS.headers), [WELD, "003", None, "吴十", pid(8), "男", "威海市第一技师学院", None, None, None]]
    }
    result = await run_roster(db, cid, sheets)
    assert result.ok, messages(result)
    assert result.counts["参赛单元"].added == 1 and result.kept_entries == 3
    coaches = (await db.execute(select(EntryCoach))).scalars().all()
    assert len(coaches) == 3  # no 教练 sheet: the coaches on file stay


# ---------------------------------------------------------------- a bad file imports nothing


async def test_bad_rows_are_reported_and_nothing_is_imported(db: AsyncSession) -> None:
    cid = await make_competition(db)
    sheets = good_sheets()
    sheets[ITEMS.name][1][5:7] = [30, 60]  # weights add up to 90
    sheets[COMPETITORS.name][1][4] = bad_check(pid(1))  # wrong check digit, row 2
    sheets[COMPETITORS.name][2][6] = "不存在的单位"  # unknown unit, row 3
    sheets[COMPETITORS.name].append([WELD, "003", None, "李四", pid(2), "女", "威海某某重工有限公司", None, None, None])  # duplicate, row 6
    before = await snapshot(db)
    result = await run_roster(db, cid, sheets)
    assert not result.ok
    found = cells(result)
    assert (ITEMS.name, 2, "理论权重、实操权重、答辩权重") in found, messages(result)
    assert (COMPETITORS.name, 2, "证件号码") in found
    assert (COMPETITORS.name, 3, "选送单位") in found
    assert (COMPETITORS.name, 6, "证件号码") in found
    text_of = messages(result)
    assert "校验位错误" in text_of
    assert "单位「不存在的单位」不存在" in text_of
    assert "重复" in text_of
    assert "权重之和为 90,应为 100" in text_of
    assert pid(1) not in text_of  # messages mask the number
    assert await snapshot(db) == before


async def test_refused_file_leaves_existing_data_untouched(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    sheets = good_sheets()
    sheets[UNITS.name].append(["新单位", "", "", ""])  # would be added...
    sheets[COMPETITORS.name][1][9] = "13700000000"  # ...as would this phone...
    sheets[COMPETITORS.name][4][4] = bad_check(pid(4))  # ...but one row is bad
    before = await snapshot(db)
    result = await run_roster(db, cid, sheets)
    assert cells(result) == {(COMPETITORS.name, 5, "证件号码")}, messages(result)
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("change", "expected", "fragment"),
    [
        pytest.param(
            lambda s: s[COMPETITORS.name][3].__setitem__(6, "威海某某重工有限公司"),
            (COMPETITORS.name, 5, "选送单位"),
            "选送单位应相同",
            id="team-units-differ",
        ),
        pytest.param(lambda s: s[COMPETITORS.name].pop(4), (COMPETITORS.name, 4, "参赛号"), "每队应为 2 人", id="team-size"),
        pytest.param(
            lambda s: s[COMPETITORS.name][2].__setitem__(1, "001"),
            (COMPETITORS.name, 3, "参赛号"),
            "只能有一名选手",
            id="individual-two-people",
        ),
        pytest.param(lambda s: s[ITEMS.name][1].__setitem__(3, "双人"), (ITEMS.name, 2, "类型"), "应为 个人/团队", id="item-type"),
        pytest.param(
            lambda s: s[COMPETITORS.name][1].__setitem__(8, "Y"), (COMPETITORS.name, 2, "是否职工"), "应为 是 或 否", id="employee-flag"
        ),
        pytest.param(lambda s: s[COMPETITORS.name][1].__setitem__(5, "M"), (COMPETITORS.name, 2, "性别"), "应为 男/女", id="gender"),
        pytest.param(lambda s: s[COMPETITORS.name][1].__setitem__(3, None), (COMPETITORS.name, 2, "姓名"), "不能为空", id="missing-name"),
        pytest.param(
            lambda s: s[COMPETITORS.name][1].__setitem__(0, "9-99-99-99"),
            (COMPETITORS.name, 2, "职业(工种)代码"),
            "未知的职业(工种)代码",
            id="unknown-skill",
        ),
        pytest.param(
            lambda s: s[COACHES.name][1].__setitem__(1, "099"), (COACHES.name, 2, "参赛号"), "在选手表中不存在", id="coach-entry-missing"
        ),
        pytest.param(lambda s: s[COACHES.name][1].__setitem__(5, 0), (COACHES.name, 2, "份额"), "超出范围", id="share-zero"),
        pytest.param(lambda s: s[COACHES.name][1].__setitem__(5, 1.5), (COACHES.name, 2, "份额"), "不是整数", id="share-fraction"),
        pytest.param(lambda s: s[COACHES.name][2].__setitem__(5, None), (COACHES.name, 3, "份额"), "要么都填写", id="share-mixed"),
        pytest.param(lambda s: s[COACHES.name][2].__setitem__(6, "是"), (COACHES.name, 3, "是否主教练"), "至多一名", id="two-leads"),
        pytest.param(
            lambda s: s[COACHES.name][1].__setitem__(2, "孙七七"), (COACHES.name, 4, "姓名"), "姓名为「孙七七」", id="same-number-two-names"
        ),
        pytest.param(lambda s: s[CRITERIA.name][2].__setitem__(4, 50), (CRITERIA.name, 3, "满分"), "满分之和为 90", id="criteria-sum"),
        pytest.param(
            lambda s: s[CRITERIA.name][3].__setitem__(7, 3), (CRITERIA.name, 4, "裁判人数"), "至少 5 名裁判", id="trimmed-mean-panel"
        ),
        pytest.param(
            lambda s: s[CRITERIA.name][1].__setitem__(1, "笔试"), (CRITERIA.name, 2, "组成部分"), "应为 理论/实操/答辩", id="component-kind"
        ),
        pytest.param(lambda s: s[ITEMS.name][2].__setitem__(4, 4), (ITEMS.name, 3, "团队人数"), "超出范围", id="team-size-range"),
        pytest.param(
            lambda s: s[UNITS.name].append(["威海市第一技师学院", "", "", ""]), (UNITS.name, 4, "单位名称"), "已列出", id="duplicate-unit"
        ),
    ],
)
async def test_each_kind_of_bad_row_is_named(db: AsyncSession, change: Any, expected: tuple[str, int, str], fragment: str) -> None:
    cid = await make_competition(db)
    sheets = good_sheets()
    change(sheets)
    before = await snapshot(db)
    result = await run_roster(db, cid, sheets)
    assert expected in cells(result), messages(result)
    assert fragment in next(p.message for p in result.problems if (p.sheet, p.row, p.column) == expected), messages(result)
    assert await snapshot(db) == before


async def test_missing_required_column_is_reported_once(db: AsyncSession) -> None:
    cid = await make_competition(db)
    sheets = good_sheets()
    sheets[COMPETITORS.name] = [[c for i, c in enumerate(row) if i != 4] for row in sheets[COMPETITORS.name]]  # no 证件号码
    result = await run_roster(db, cid, sheets)
    column_problems = [p for p in result.problems if p.column == "证件号码" and p.sheet == COMPETITORS.name]
    assert len(column_problems) == 1, messages(result)
    assert "缺少必需的列「证件号码」" in column_problems[0].message and "选手" in column_problems[0].message


async def test_row_numbers_follow_excel_and_headers_are_matched_loosely(db: AsyncSession) -> None:
    cid = await make_competition(db)
    sheets = good_sheets()
    headers = ["职业（工种）代码*", "参赛号 *", *COMPETITORS.headers[2:]]  # full-width parentheses, required marks
    sheets[COMPETITORS.name] = [
        ["2026年选手名单"],  # a title row above the headers
        headers,
        [WELD, "001", None, "张三", pid(1), "男", "威海市第一技师学院", None, None, None],
        [],
        [WELD, "002", None, "李四", bad_check(pid(2)), "女", "威海某某重工有限公司", None, None, None],
    ]
    del sheets[COACHES.name]
    result = await run_roster(db, cid, sheets)
    assert cells(result) == {(COMPETITORS.name, 5, "证件号码")}, messages(result)


async def test_missing_competitor_sheet_and_empty_file(db: AsyncSession) -> None:
    cid = await make_competition(db)
    result = await run_roster(db, cid, {UNITS.name: [list(UNITS.headers), ["甲单位"]]})
    assert (COMPETITORS.name, 0, "") in cells(result) and "缺少工作表「选手」" in messages(result)
    empty = await run_roster(db, cid, {COMPETITORS.name: [list(COMPETITORS.headers), ["示例:6-18-02-04", "001"]]})
    assert "没有可导入的数据" in messages(empty)


async def test_person_already_in_another_entry_of_the_item(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    sheets: dict[str, list[list[Any]]] = {
        COMPETITORS.name: [list(COMPETITORS.headers), [WELD, "009", None, "张三", pid(1), "男", "威海市第一技师学院", None, None, None]]
    }
    result = await run_roster(db, cid, sheets)
    assert (COMPETITORS.name, 2, "证件号码") in cells(result)
    assert "已在本赛项参赛号「001」中登记" in messages(result)


async def test_name_differing_from_the_registered_person_is_refused(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    sheets = good_sheets()
    sheets[COMPETITORS.name][1][3] = "张叁"
    result = await run_roster(db, cid, sheets)
    assert (COMPETITORS.name, 2, "姓名") in cells(result) and "已登记为「张三」" in messages(result)


async def test_id_number_stored_as_excel_number_is_explained(db: AsyncSession) -> None:
    cid = await make_competition(db)
    sheets = good_sheets()
    sheets[COMPETITORS.name][1][4] = float(pid(1)[:17] + "0")
    result = await run_roster(db, cid, sheets)
    assert (COMPETITORS.name, 2, "证件号码") in cells(result)
    assert "文本" in messages(result)


async def test_items_past_setup_cannot_change(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    weld = (await db.execute(select(Item).where(Item.skill_code == WELD))).scalar_one()
    weld.status = "scoring"
    await db.commit()
    # Unchanged: fine (idempotent).
    assert (await run_roster(db, cid, good_sheets())).changed == 0
    sheets = good_sheets()
    sheets[ITEMS.name][1][5:7] = [20, 80]
    sheets[COMPETITORS.name].append([WELD, "003", None, "吴十", pid(8), "男", "威海市第一技师学院", None, None, None])
    before = await snapshot(db)
    result = await run_roster(db, cid, sheets)
    assert (ITEMS.name, 2, "") in cells(result) and (COMPETITORS.name, 6, "参赛号") in cells(result), messages(result)
    assert "已开始评分" in messages(result)
    assert await snapshot(db) == before


# ---------------------------------------------------------------- files that are not workbooks


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "空的"),
        (b"name,id\n1,2\n", "不是 .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        (b"PK\x03\x04" + b"broken" * 50, "已损坏"),
        (b"PK" + b"\0" * (10 * 1024 * 1024), "不能超过 10 MB"),
    ],
    ids=["empty", "csv", "xls", "corrupt", "too-large"],
)
async def test_unreadable_files_get_a_clear_message(db: AsyncSession, content: bytes, fragment: str) -> None:
    cid = await make_competition(db)
    with pytest.raises(ContestError) as caught:
        await service.import_roster(db, ACTOR, cid, "x.xlsx", content)
    assert fragment in caught.value.message


# ---------------------------------------------------------------- judges


def judge_sheets() -> dict[str, list[list[Any]]]:
    return {
        UNITS.name: [list(UNITS.headers), ["威海市质量技术监督学校", "", "", ""]],
        JUDGES.name: [
            list(JUDGES.headers),
            ["陈裁判长", pid(20), "男", "威海市质量技术监督学校", "13600000000", "裁判长", f"{WELD}、{CNC}", "chen"],
            ["林裁判", pid(21), "女", "威海市第一技师学院", None, "裁判", WELD, "lin"],
            ["何裁判", pid(22), None, None, None, "裁判", f"{WELD},{CNC}", None],
        ],
    }


async def test_judges_import_creates_people_assignments_and_accounts(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    content = workbook(judge_sheets())
    result = await service.import_judges(db, ACTOR, cid, "裁判.xlsx", content)
    assert result.ok, messages(result)
    assert {k: (c.added, c.updated, c.unchanged) for k, c in result.counts.items()} == {
        "单位": (1, 0, 0),
        "人员": (3, 0, 0),
        "裁判分配": (5, 0, 0),
        "登录账号": (2, 0, 0),
    }
    people = {p.id_number: p for p in (await db.execute(select(Person).options(selectinload(Person.unit)))).scalars()}
    assert [people[pid(n)].unit for n in (20, 21)] == [people[pid(20)].unit, people[pid(21)].unit]
    assert [getattr(people[pid(n)].unit, "name", None) for n in (20, 21)] == ["威海市质量技术监督学校", "威海市第一技师学院"]
    items = {i.skill_code: i.id for i in (await db.execute(select(Item))).scalars()}
    rows = (await db.execute(select(JudgeAssignment).order_by(JudgeAssignment.item_id, JudgeAssignment.seat))).scalars().all()
    by_item = {code: [(a.person_id, a.role, a.seat) for a in rows if a.item_id == item_id] for code, item_id in items.items()}
    assert by_item[WELD] == [(people[pid(20)].id, "chief_judge", 1), (people[pid(21)].id, "judge", 2), (people[pid(22)].id, "judge", 3)]
    assert by_item[CNC] == [(people[pid(20)].id, "chief_judge", 1), (people[pid(22)].id, "judge", 2)]
    users = {u.username: u for u in (await db.execute(select(User))).scalars()}
    assert (users["chen"].role, users["chen"].person_id, users["chen"].password_hash) == ("chief_judge", people[pid(20)].id, None)
    assert (users["lin"].role, users["lin"].person_id) == ("judge", people[pid(21)].id)

    before = await snapshot(db)
    again = await service.import_judges(db, ACTOR, cid, "裁判.xlsx", content)
    assert again.ok and again.changed == 0, messages(again)
    assert await snapshot(db) == before


async def test_judges_import_refuses_taken_accounts_and_bad_rows(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    other = Person(id_number=pid(30), name="别人")
    db.add(other)
    await db.flush()
    db.add(User(username="taken", role="judge", person_id=other.id))
    await db.commit()
    sheets = judge_sheets()
    sheets[JUDGES.name][1][7] = "taken"  # account linked to another person
    sheets[JUDGES.name][2][5] = "评委"  # bad role
    sheets[JUDGES.name][3][6] = "0-00-00-00"  # unknown item
    sheets[JUDGES.name].append(["张三", pid(1), "男", None, None, "裁判", WELD, None])  # a competitor of that item
    before = await snapshot(db)
    result = await service.import_judges(db, ACTOR, cid, "裁判.xlsx", workbook(sheets))
    assert {(JUDGES.name, 2, "登录账号"), (JUDGES.name, 3, "角色"), (JUDGES.name, 4, "执裁赛项"), (JUDGES.name, 5, "执裁赛项")} <= cells(
        result
    ), messages(result)
    assert "已被其他人员使用" in messages(result) and "参赛号「001」的选手" in messages(result)
    assert await snapshot(db) == before


async def test_judge_accounts_are_promoted_never_demoted(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    assert (await service.import_judges(db, ACTOR, cid, "j.xlsx", workbook(judge_sheets()))).ok
    sheets = judge_sheets()
    sheets[JUDGES.name][1][5] = "裁判"  # 陈: chief judge -> judge on these items
    sheets[JUDGES.name][2][5] = "裁判长"  # 林: judge -> chief judge
    result = await service.import_judges(db, ACTOR, cid, "j.xlsx", workbook(sheets))
    assert result.ok, messages(result)
    assert (result.counts["裁判分配"].updated, result.counts["登录账号"].updated) == (3, 1)
    roles = {u.username: u.role for u in (await db.execute(select(User))).scalars()}
    assert roles["chen"] == "chief_judge"  # may still be chief judge elsewhere
    assert roles["lin"] == "chief_judge"
    chen = (await db.execute(select(Person.id).where(Person.id_number == pid(20)))).scalar_one()
    assert {a.role for a in (await db.execute(select(JudgeAssignment).where(JudgeAssignment.person_id == chen))).scalars()} == {"judge"}


# ---------------------------------------------------------------- pages


def _competition_via_sql(migrated: Any) -> int:
    import asyncio

    from contest.db.engine import make_engine, make_session_factory

    async def create() -> int:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as session:
            cid = await make_competition(session)
        await engine.dispose()
        return cid

    return asyncio.run(create())


def test_import_pages_for_organizers(client: Any, role_users: dict[str, str], migrated: Any) -> None:
    cid = _competition_via_sql(migrated)
    login(client, role_users["organizer"])
    page = client.get(f"/competitions/{cid}/import")
    assert page.status_code == 200
    assert page.text.count('enctype="multipart/form-data"') == 2 and page.text.count('name="_csrf_token"') >= 2
    assert f"/competitions/{cid}/import/roster-template.xlsx" in page.text

    sheets = good_sheets()
    sheets[COMPETITORS.name][1][4] = bad_check(pid(1))
    bad = post_form(
        client, f"/competitions/{cid}/import/roster", files={"file": ("名单.xlsx", workbook(sheets), "application/octet-stream")}
    )
    assert bad.status_code == 422
    assert "文件有错误,未导入任何数据。" in bad.text
    assert "<td>选手</td><td>2</td><td>证件号码</td>" in bad.text and "校验位错误" in bad.text

    good = post_form(
        client, f"/competitions/{cid}/import/roster", files={"file": ("名单.xlsx", workbook(good_sheets()), "application/octet-stream")}
    )
    assert good.status_code == 200, good.text[:2000]
    assert "导入成功" in good.text and '<tr data-kind="参赛单元"><td>参赛单元</td><td>3</td>' in good.text

    judges = post_form(
        client, f"/competitions/{cid}/import/judges", files={"file": ("裁判.xlsx", workbook(judge_sheets()), "application/octet-stream")}
    )
    assert judges.status_code == 200 and '<tr data-kind="登录账号"><td>登录账号</td><td>2</td>' in judges.text

    junk = post_form(client, f"/competitions/{cid}/import/roster", files={"file": ("名单.csv", b"a,b\n", "text/csv")})
    assert junk.status_code == 422 and "不是 .xlsx" in junk.text

    for name, sheet_names in (("roster", ["说明", "单位", "赛项", "评分细则", "选手", "教练"]), ("judges", ["说明", "单位", "裁判"])):
        download = client.get(f"/competitions/{cid}/import/{name}-template.xlsx")
        assert download.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(download.content))
        assert book.sheetnames == sheet_names
    roster_book = openpyxl.load_workbook(io.BytesIO(client.get(f"/competitions/{cid}/import/roster-template.xlsx").content))
    assert [c.value for c in roster_book["选手"][1]] == list(COMPETITORS.headers)
    assert [c.value for c in roster_book["教练"][1]] == list(COACHES.headers)
    assert [c.value for c in roster_book["赛项"][1]] == list(ITEMS.headers)
    assert roster_book["选手"]["A2"].value.startswith("示例")
    judges_book = openpyxl.load_workbook(io.BytesIO(client.get(f"/competitions/{cid}/import/judges-template.xlsx").content))
    assert [c.value for c in judges_book["裁判"][1]] == list(JUDGES.headers)


def test_filled_in_template_imports(client: Any, role_users: dict[str, str], migrated: Any) -> None:
    """The template's example rows are skipped; rows typed under them import."""
    cid = _competition_via_sql(migrated)
    login(client, role_users["organizer"])
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/competitions/{cid}/import/roster-template.xlsx").content))
    good = good_sheets()
    for name in (UNITS.name, ITEMS.name, CRITERIA.name, COMPETITORS.name, COACHES.name):
        sheet = book[name]
        start = sheet.max_row if name != CRITERIA.name else 4
        for offset, row in enumerate(good[name][1:], start=1):
            for column, value in enumerate(row, start=1):
                cell = sheet.cell(row=start + offset, column=column)
                cell.value = value
    buffer = io.BytesIO()
    book.save(buffer)
    response = post_form(
        client, f"/competitions/{cid}/import/roster", files={"file": ("t.xlsx", buffer.getvalue(), "application/octet-stream")}
    )
    assert response.status_code == 200, response.text[:3000]


def test_too_large_upload_is_refused_in_chinese(client: Any, role_users: dict[str, str], migrated: Any) -> None:
    cid = _competition_via_sql(migrated)
    login(client, role_users["organizer"])
    big = b"PK" + b"\0" * (10 * 1024 * 1024 + 10)
    response = post_form(client, f"/competitions/{cid}/import/roster", files={"file": ("big.xlsx", big, "application/octet-stream")})
    assert response.status_code == 413
    assert "不能超过 10 MB" in response.text
    huge = b"PK" + b"\0" * (11 * 1024 * 1024)
    response = post_form(client, f"/competitions/{cid}/import/judges", files={"file": ("huge.xlsx", huge, "application/octet-stream")})
    assert response.status_code == 413 and "不能超过 10 MB" in response.text
    client.cookies.set("lang", "en")
    response = post_form(client, f"/competitions/{cid}/import/judges", files={"file": ("huge.xlsx", huge, "application/octet-stream")})
    assert response.status_code == 413 and "at most 10 MB" in response.text and "不能超过" not in response.text


def test_judges_and_anonymous_users_cannot_import(client: Any, role_users: dict[str, str], migrated: Any) -> None:
    cid = _competition_via_sql(migrated)
    anonymous = client.get(f"/competitions/{cid}/import", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
    login(client, role_users["judge"])
    for path in ("", "/roster-template.xlsx", "/judges-template.xlsx"):
        assert client.get(f"/competitions/{cid}/import{path}").status_code == 403
    for path in ("/roster", "/judges"):
        response = post_form(
            client, f"/competitions/{cid}/import{path}", files={"file": ("名单.xlsx", workbook(good_sheets()), "application/octet-stream")}
        )
        assert response.status_code == 403


def test_unknown_competition_is_404(client: Any, role_users: dict[str, str]) -> None:
    login(client, role_users["organizer"])
    assert client.get("/competitions/999/import").status_code == 404


async def test_snapshot_helper_sees_writes(db: AsyncSession) -> None:
    """The snapshot helper sees writes (so 'unchanged' assertions above can fail)."""
    before = await snapshot(db)
    await db.execute(text("INSERT INTO units (name, code, region, contact) VALUES ('x', '', '', '')"))
    await db.commit()
    assert await snapshot(db) != before


async def test_items_carry_their_group_and_a_blank_group_keeps_it(db: AsyncSession) -> None:
    """组别 on the 赛项 sheet (optional): stored on the item; a blank cell keeps the stored group;
    longer than its declared maximum: named in its cell, nothing imported."""
    from contest.domain.limits import ITEM_GROUP

    cid = await make_competition(db)
    sheets = good_sheets()
    sheets[ITEMS.name][1].append("职工组")  # 焊工; 数控车工 leaves 组别 blank
    assert (await run_roster(db, cid, sheets)).ok
    groups = dict((await db.execute(select(Item.skill_code, Item.group_name))).all())
    assert groups == {WELD: "职工组", CNC: ""}
    sheets[ITEMS.name][1][-1] = None  # blank: kept
    sheets[ITEMS.name][2].append("学生组")
    result = await run_roster(db, cid, sheets)
    assert result.ok, messages(result)
    db.expire_all()
    assert dict((await db.execute(select(Item.skill_code, Item.group_name))).all()) == {WELD: "职工组", CNC: "学生组"}
    before = await snapshot(db)
    sheets[ITEMS.name][1][-1] = "组" * (ITEM_GROUP.max + 1)
    refused = await run_roster(db, cid, sheets)
    assert not refused.ok and (ITEMS.name, 2, "组别") in cells(refused), messages(refused)
    assert await snapshot(db) == before
