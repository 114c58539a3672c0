"""The import result page in English (cookie lang=en) and in Chinese: each problem of a bad row is
translated with the sheet and the column it names, while the values typed in the file, and the
Chinese words a cell must hold (男/女, 裁判/裁判长, the headers shown beside their English), stay as
written. In Chinese the page says exactly what it said before the messages went through the catalog.

The workbooks are built with openpyxl here, as in test_roster_import.py.
"""

from __future__ import annotations

import html
import re
from typing import Any

from litestar.testing import TestClient

from contest.rosters.sheets import COACHES, COMPETITORS, CRITERIA, ITEMS, JUDGES, UNITS
from tests.conftest import login, post_form
from tests.integration.test_roster_import import WELD, _competition_via_sql, good_sheets, judge_sheets, pid, workbook

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef「」]")
ROW = re.compile(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", re.S)
ORIGINAL = re.compile(r' <span class="muted" lang="zh-CN">\((.*?)\)</span>')


def _bad_roster() -> dict[str, list[list[Any]]]:
    sheets = good_sheets()
    sheets[UNITS.name].append(["威海市第一技师学院", "", "", ""])  # row 4: listed twice
    sheets[ITEMS.name][2][4] = 4  # row 3: team size out of range
    sheets[CRITERIA.name][1][1] = "笔试"  # row 2: not a component
    sheets[COMPETITORS.name][1][5] = "M"  # row 2: gender
    sheets[COMPETITORS.name][2][3] = None  # row 3: no name
    sheets[COMPETITORS.name][2][4] = float(pid(2)[:17] + "0")  # row 3: the 证件号码 typed as a number
    sheets[COMPETITORS.name][3][0] = "9-99-99-99"  # row 4: unknown item
    sheets[COACHES.name][1][5] = 1.5  # row 2: share not a whole number
    sheets[COACHES.name][2][1] = "T09"  # row 3: no such entry
    sheets[COACHES.name][3][2] = "周捌"  # row 4: the 证件号码 of 孙七 (row 2) under another name
    return sheets


# (sheet, row, column) -> [(the Chinese, as the page always said it; the English)], in the page's order.
ROSTER_PROBLEMS = {
    ("单位", "4", "单位名称"): ("单位「威海市第一技师学院」在第 2 行已列出", "The unit “威海市第一技师学院” is already listed on row 2"),
    ("赛项", "3", "团队人数"): [
        ("团队人数 4 超出范围,应为 1 到 3", "Team size 4 is out of range: it should be 1 to 3"),
        ("团队赛项的团队人数应为 2 到 3 人", "A team item's team size must be 2 to 3"),  # domain/competition.py's own
    ],
    ("评分细则", "2", "组成部分"): ("「笔试」无效,组成部分应为 理论/实操/答辩", "“笔试” is not valid: Component should be 理论/实操/答辩"),
    ("选手", "2", "性别"): ("「M」无效,性别应为 男/女", "“M” is not valid: Gender should be 男/女"),
    ("选手", "3", "姓名"): ("「姓名」不能为空", "“Name” must not be empty"),
    ("选手", "3", "证件号码"): (
        "证件号码被 Excel 存成了数字,末几位可能已丢失:请把该列设为“文本”格式后重新填写",
        "Excel stored the ID number as a number and its last digits may be lost: format the column as Text and type the numbers again",
    ),
    ("选手", "4", "职业(工种)代码"): (
        "未知的职业(工种)代码「9-99-99-99」:本赛事没有该赛项,请在赛项表中添加",
        "Unknown skill code “9-99-99-99”: the competition has no such item; add it on the Items sheet",
    ),
    ("教练", "2", "份额"): ("「1.5」不是整数", "“1.5” is not a whole number"),
    ("教练", "4", "姓名"): (
        "同一证件号码在教练表第 2 行的姓名为「孙七」,与本行「周捌」不一致",
        "The same ID number has the name “孙七” on row 2 of the Coaches sheet, not “周捌” as on this row",
    ),
    ("教练", "3", "参赛号"): (
        "参赛号「T09」在选手表中不存在(职业(工种)代码 6-18-02-04)",
        "Entry no. “T09” is not on the Competitors sheet (skill code 6-18-02-04)",
    ),
}
# What the file holds, and the words a cell must hold: Chinese in every language.
TYPED = ["威海市第一技师学院", "笔试", "孙七", "周捌", "理论/实操/答辩", "男/女", "裁判/裁判长", "评委", "张三"]


def _rows(page: str) -> dict[tuple[str, str, str], list[str]]:
    """(sheet, row, column) -> its messages, as the problems table shows them (the names as shown)."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for sheet, row, column, message in ROW.findall(page):
        found.setdefault((html.unescape(sheet), row, html.unescape(column)), []).append(html.unescape(message))
    return found


def _expected(problems: dict[tuple[str, str, str], Any], language: int) -> dict[tuple[str, str, str], list[str]]:
    """The table's ``_rows`` as ``problems`` says it in Chinese (0) or English (1)."""
    return {key: [pair[language] for pair in (value if isinstance(value, list) else [value])] for key, value in problems.items()}


def _english_rows(page: str) -> dict[tuple[str, str, str], list[str]]:
    """The English table keyed by the Chinese names the workbook uses: each translated sheet or
    column name is followed by that name (to find it in the file); nothing else in Chinese."""
    found = {}
    for (sheet, row, column), shown_messages in _rows(page).items():
        names = []
        for shown in (sheet, column):
            original = ORIGINAL.search(shown)
            english = ORIGINAL.sub("", shown)
            assert not CJK.search(english), f"a name shown in Chinese in English mode: {shown!r}"
            names.append(original.group(1) if original else english)
        found[(names[0], row, names[1])] = shown_messages
    return found


def _assert_no_chinese_but_typed(message: str) -> None:
    rest = message
    for typed in TYPED:
        rest = rest.replace(typed, "")
    assert not CJK.search(rest), f"shown in Chinese in English mode: {message!r}"


def _upload(client: TestClient, cid: int, kind: str, sheets: dict[str, list[list[Any]]]) -> str:
    response = post_form(
        client, f"/competitions/{cid}/import/{kind}", files={"file": ("名单.xlsx", workbook(sheets), "application/octet-stream")}
    )
    assert response.status_code == 422, response.text[:2000]
    return response.text


def test_roster_problems_in_english_and_in_chinese(client: TestClient, role_users: dict[str, str], migrated: Any) -> None:
    cid = _competition_via_sql(migrated)
    login(client, role_users["organizer"])

    client.cookies.set("lang", "en")
    page = _upload(client, cid, "roster", _bad_roster())
    assert "The file has errors; nothing was imported." in page
    english = _english_rows(page)
    assert english == _expected(ROSTER_PROBLEMS, 1)
    for shown in english.values():
        for message in shown:
            _assert_no_chinese_but_typed(message)
    # A translated name is followed by the one the workbook uses.
    zh = '<span class="muted" lang="zh-CN">'
    assert f"<td>Competitors {zh}(选手)</span></td><td>3</td><td>Name {zh}(姓名)</span></td>" in page

    client.cookies.set("lang", "zh")
    page = _upload(client, cid, "roster", _bad_roster())
    assert '<span class="muted" lang="zh-CN">' not in page
    assert _rows(page) == _expected(ROSTER_PROBLEMS, 0)
    assert "<td>选手</td><td>3</td><td>姓名</td>" in page


def test_sheet_problems_in_english(client: TestClient, role_users: dict[str, str], migrated: Any) -> None:
    cid = _competition_via_sql(migrated)
    login(client, role_users["organizer"])
    sheets = good_sheets()
    sheets[COMPETITORS.name] = [[c for i, c in enumerate(row) if i != 4] for row in sheets[COMPETITORS.name]]  # no 证件号码
    del sheets[COACHES.name]  # its entries would be missing
    sheets[UNITS.name][0].append("联系人")  # a column twice
    client.cookies.set("lang", "en")
    english = _english_rows(_upload(client, cid, "roster", sheets))
    assert english == {
        ("选手", "1", "证件号码"): ["The Competitors sheet lacks the required column “ID number”"],
        ("单位", "1", "联系人"): ["The column “Contact” appears twice"],
    }
    client.cookies.set("lang", "zh")
    assert _rows(_upload(client, cid, "roster", sheets)) == {
        ("选手", "1", "证件号码"): ["工作表「选手」缺少必需的列「证件号码」"],
        ("单位", "1", "联系人"): ["列「联系人」出现了两次"],
    }
    client.cookies.set("lang", "en")
    english = _english_rows(_upload(client, cid, "roster", {UNITS.name: [list(UNITS.headers), ["甲单位"]]}))
    assert english == {("选手", "—", "—"): ["The Competitors sheet is missing"]}


def _bad_judges(organizer: str) -> dict[str, list[list[Any]]]:
    sheets = judge_sheets()
    rows = sheets[JUDGES.name]
    rows[1][7] = organizer  # row 2: an account of someone else
    rows[2][5] = "评委"  # row 3: not a role
    rows[3][6] = "0-00-00-00"  # row 4: unknown item
    rows[3][2] = "M"  # row 4: gender
    rows.append(["张三", pid(1), "男", None, None, "裁判", WELD, None])  # row 5: a competitor of that item
    rows.append(["陈裁判长", pid(20), "男", None, None, "裁判", WELD, None])  # row 6: listed twice
    rows.append(["郑裁判", pid(23), "男", None, None, "裁判", WELD, "lin"])  # row 7: the account of row 3
    return sheets


JUDGE_PROBLEMS = {
    ("裁判", "2", "登录账号"): ("登录账号「{organizer}」已被其他人员使用", "The login account “{organizer}” is used by someone else"),
    ("裁判", "3", "角色"): ("「评委」无效,角色应为 裁判/裁判长", "“评委” is not valid: Role should be 裁判/裁判长"),
    ("裁判", "4", "性别"): ("「M」无效,性别应为 男/女", "“M” is not valid: Gender should be 男/女"),
    ("裁判", "4", "执裁赛项"): (
        "未知的职业(工种)代码「0-00-00-00」:本赛事没有该赛项",
        "Unknown skill code “0-00-00-00”: the competition has no such item",
    ),
    ("裁判", "5", "执裁赛项"): (
        f"该裁判是赛项「{WELD}」参赛号「001」的选手,不能执裁该赛项",
        None,  # conflicts.panel_refusal, translated by its own entry: checked for Chinese only
    ),
    ("裁判", "6", "证件号码"): ("该裁判在第 2 行已列出", "This judge is already listed on row 2"),
    ("裁判", "7", "登录账号"): ("登录账号「lin」在第 3 行已使用", "The login account “lin” is already used on row 3"),
}


def test_judges_problems_in_english_and_in_chinese(client: TestClient, role_users: dict[str, str], migrated: Any) -> None:
    cid = _competition_via_sql(migrated)
    organizer = role_users["organizer"]
    login(client, organizer)
    roster = post_form(
        client, f"/competitions/{cid}/import/roster", files={"file": ("名单.xlsx", workbook(good_sheets()), "application/octet-stream")}
    )
    assert roster.status_code == 200, roster.text[:2000]

    client.cookies.set("lang", "en")
    english = _english_rows(_upload(client, cid, "judges", _bad_judges(organizer)))
    assert set(english) == set(JUDGE_PROBLEMS), english
    for key, (_, expected) in JUDGE_PROBLEMS.items():
        if expected is not None:
            assert english[key] == [expected.format(organizer=organizer)]
        _assert_no_chinese_but_typed(english[key][0])

    client.cookies.set("lang", "zh")
    chinese = _rows(_upload(client, cid, "judges", _bad_judges(organizer)))
    assert chinese == {key: [message.format(organizer=organizer)] for key, (message, _) in JUDGE_PROBLEMS.items()}
