"""The finance workbook: sheets, columns, totals in 大写, text stays text, amounts are numbers."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from contest.domain.awards import compute_awards
from contest.domain.money import Money, to_chinese_capital
from contest.xlsx.finance_workbook import PAYER_COLUMNS, write_finance_workbook

from .builders import (
    MUNICIPAL_1,
    PROVINCIAL_1,
    SELECTION,
    achievement,
    longjiang,
    person,
    weihai,
)

FORMULA = '=HYPERLINK("http://x","y")'


def build(result):
    stream = io.BytesIO()
    write_finance_workbook(result, stream)
    stream.seek(0)
    return load_workbook(stream)


def test_sheets_columns_totals_and_capital() -> None:
    result = compute_awards(weihai(), [
        achievement(SELECTION, "第2名", members=[person("甲", unit="威海职业学院")]),
        achievement(MUNICIPAL_1, "第1名", members=[person("乙")]),
        achievement(PROVINCIAL_1, "第4名", members=[person("丙")]),
    ])
    book = build(result)
    city = "威海市人力资源和社会保障局、威海市财政局"
    assert book.sheetnames == ["汇总", city, "威海市总工会", "未发放", "非现金奖励"]
    summary = {row[0]: row[1:] for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}
    assert summary[city][:3] == (2, 200000, "贰拾万元整")
    assert summary["威海市总工会"][:3] == (1, 2000, "贰仟元整")
    assert summary["合计"][:3] == (3, 202000, "贰拾万贰仟元整")

    rows = list(book[city].iter_rows(values_only=True))
    assert rows[1] == PAYER_COLUMNS
    assert [r[0] for r in rows[2:-1]] == [1, 2]  # 序号
    assert {r[7] for r in rows[2:-1]} == {"选手", "单位"}
    assert all(r[10] is None for r in rows[2:])  # blank 签字 column
    assert rows[-1][0] == "合计" and rows[-1][8] == 200000 and rows[-1][9] == to_chinese_capital(Money("200000"))
    competitor_row = next(r for r in rows if r[7] == "选手")
    assert competitor_row[1] == "甲" and competitor_row[2] == result.lines[0].recipient_id  # full ID for finance
    assert "威人社字〔2021〕16号" in competitor_row[9]
    excluded = list(book["未发放"].iter_rows(values_only=True))
    assert excluded[1][1] == "不在奖励范围" and excluded[1][2] == "丙" and "不在本政策奖励范围" in excluded[1][10]


def test_user_text_stays_text_and_amounts_are_numbers() -> None:
    tricky = person(FORMULA, unit="=1+1")
    odd = person("#N/A", unit="@SUM(A1)")
    result = compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", members=[tricky],
                                                      coaches=[odd], item="+cmd|' /C calc'!A0")])
    book = build(result)
    sheet = book["黑龙江省人力资源和社会保障厅"]
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    for text in (FORMULA, "=1+1", "#N/A", "@SUM(A1)", "+cmd|' /C calc'!A0"):
        assert cells[text].data_type == "s", text
    amount = next(row[8] for row in sheet.iter_rows(min_row=3) if row[1].value == FORMULA)
    assert amount.data_type == "n" and amount.value == 20000  # 省级一类第1名
    assert amount.number_format == "#,##0.00"


def test_amounts_keep_the_fen() -> None:
    team = [person("甲"), person("乙"), person("丙")]
    book = build(compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第2名", members=team)]))
    values = sorted(row[8] for row in book["黑龙江省人力资源和社会保障厅"].iter_rows(min_row=3, values_only=True)
                    if row[7] == "选手")
    assert [Decimal(str(v)) for v in values] == [Decimal("3333.33"), Decimal("3333.33"), Decimal("3333.34")]


def test_honours_sheet_and_control_characters() -> None:
    winner = person("李\x01四")
    book = build(compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", members=[winner])]))
    honours = list(book["非现金奖励"].iter_rows(values_only=True))
    assert len(honours) == 1 + 3 and honours[1][1] == "李四"
    assert any("晋升" in row[7] for row in honours[1:])


def test_fast_and_ordinary_openpyxl_paths_write_the_same_workbook() -> None:
    team = [person(FORMULA, unit=" 前后有空格 "), person("乙")]
    result = compute_awards(longjiang(), [
        achievement(PROVINCIAL_1, "第1名", members=team, coaches=[person("#REF!")]),
        achievement(PROVINCIAL_1, "第9名", members=[person("丙")])])
    books = []
    for fast in (True, False):
        stream = io.BytesIO()
        write_finance_workbook(result, stream, fast=fast)
        stream.seek(0)
        books.append(load_workbook(stream))
    fast_book, slow_book = books
    assert fast_book.sheetnames == slow_book.sheetnames
    for name in fast_book.sheetnames:
        fast_cells = [(c.coordinate, c.value, c.data_type, c.number_format, bool(c.font.b))
                      for row in fast_book[name].iter_rows() for c in row if c.value is not None]
        slow_cells = [(c.coordinate, c.value, c.data_type, c.number_format, bool(c.font.b))
                      for row in slow_book[name].iter_rows() for c in row if c.value is not None]
        assert fast_cells == slow_cells, name
    assert any(c.value == " 前后有空格 " for row in fast_book.worksheets[1].iter_rows() for c in row)
